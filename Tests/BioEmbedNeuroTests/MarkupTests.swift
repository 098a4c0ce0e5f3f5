import Foundation
import Testing

@testable import BioEmbedNeuro

/// The XML subset of GIFTI and CIFTI-2, and the base64 decoder of GIFTI's binary arrays.
struct MarkupTests {
    func parse(_ text: String) throws -> MarkupElement {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { raw in Result { () throws(MarkupElement.Failure) in try MarkupElement.parse(raw) } }
        return try result.get()
    }

    @Test func elementsAttributesTextAndReferences() throws {
        let root = try parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE GIFTI SYSTEM "http://www.nitrc.org/frs/download.php/115/gifti.dtd">
            <!-- a comment -->
            <GIFTI Version='1.0' N="2">
              <MetaData><MD><Name><![CDATA[Anatomical<Structure>]]></Name><Value>Cortex&amp;Left &#x41;&#66;</Value></MD></MetaData>
              <DataArray Dim0="3"/>
              <DataArray Dim0="4"><Data>  1 2
            3 4 </Data></DataArray>
            </GIFTI>
            """)
        #expect(root.name == "GIFTI")
        #expect(root.attributes == ["Version": "1.0", "N": "2"])
        #expect(root.children("DataArray").count == 2)
        let md = try #require(root.child("MetaData")?.child("MD"))
        #expect(md.child("Name")?.string == "Anatomical<Structure>")
        #expect(md.child("Value")?.string == "Cortex&Left AB")
        #expect(root.children("DataArray")[1].child("Data")?.string == "1 2\n3 4")
    }

    @Test(arguments: [
        ("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "DOCTYPE"),
        ("<a>&x;</a>", "entities are not expanded"),
        ("<a b=\"1\" b=\"2\"/>", "twice"),
        ("<a><b></a>", "</b>"),
        ("<a>", "</a>"),
        ("<a/><b/>", "nothing after the root element"),
        (String(repeating: "<a>", count: 70) + String(repeating: "</a>", count: 70), "levels of nesting"),
    ])
    func refusals(text: String, words: String) {
        let error = #expect(throws: MarkupElement.Failure.self) { _ = try parse(text) }
        #expect(error.map { "\($0)".contains(words) } == true, "\(String(describing: error))")
    }

    @Test func base64MatchesFoundationWithLineBreaksAndPadding() throws {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 3, 4, 5, 57, 58, 1000] {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let plain = Data(bytes).base64EncodedString()
            let wrapped = Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
            #expect(Base64.decode(Array(plain.utf8)) == bytes)
            #expect(Base64.decode(Array(("  " + wrapped + "\n").utf8)) == bytes)
            #expect(Base64.decode(Array(plain.replacingOccurrences(of: "=", with: "").utf8)) == bytes)
        }
        #expect(Base64.decode(Array("QUJD*".utf8)) == nil)
        #expect(Base64.decode(Array("QQ==QQ".utf8)) == nil)
    }
}
