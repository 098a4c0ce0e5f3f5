import BioEmbedCore
import BioEmbedMolecule
import Foundation

/// `molt5 SDF LIMIT`: SDF records → RDKit parse → SELFIES → E3FP → ids, in process, one thread
/// (the same code path as `bioembed molecule tokenize`, without HDF5 writing).
/// `parse SDF LIMIT`: RDKit parsing, kekulé SMILES and the copy into Swift only.
/// `e3fp SDF LIMIT`: E3FP alone on molecules parsed beforehand (compare with the e3fp package).
/// Process CPU seconds (less sensitive than wall time to other load on a shared machine).
func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func moleculeBench(mode: String, path: String, limit: Int) throws {
    let reader = try SDFReader(path: path)
    let records = Array(reader.records.prefix(limit))
    let tokenizer = MoleculeTokenizer()
    if mode == "parse" {
        let t0 = now(), c0 = cpuSeconds()
        var done = 0
        for record in records where (try? RDKitMolecule(molBlock: record.molBlock, file: path, record: record.index)) != nil { done += 1 }
        let seconds = now() - t0, cpu = cpuSeconds() - c0
        json(["tool": "bioembed", "case": "rdkit-parse", "molecules": done, "seconds": seconds, "mol_per_s": Double(done) / seconds, "cpu_seconds": cpu, "mol_per_cpu_s": Double(done) / cpu])
    } else if mode == "molt5" {
        let t0 = now(), c0 = cpuSeconds()
        var done = 0
        for record in records {
            guard let molecule = try? RDKitMolecule(molBlock: record.molBlock, file: path, record: record.index) else { continue }
            if (try? tokenizer.tokenize(molecule, file: path, record: record.index, line: record.line)) != nil { done += 1 }
        }
        let seconds = now() - t0, cpu = cpuSeconds() - c0
        json(["tool": "bioembed", "case": "molt5-tokenize", "molecules": done, "seconds": seconds, "mol_per_s": Double(done) / seconds, "cpu_seconds": cpu, "mol_per_cpu_s": Double(done) / cpu])
    } else {
        let molecules = records.compactMap { try? RDKitMolecule(molBlock: $0.molBlock) }
        let inputs = molecules.map { molecule in
            (molecule.atoms.map { atom in
                E3FP.Atom(atomicNumber: atom.atomicNumber, invariants: [
                    Int64(atom.atomicNumber), Int64(atom.totalDegree), Int64(atom.totalHydrogens), Int64(atom.formalCharge),
                    Int64(atom.deltaMass), atom.isInRing ? 1 : 0,
                ])
            }, molecule.bonds.map { ($0.begin, $0.end, $0.code) }, molecule.coordinates)
        }
        let e3fp = E3FP()
        let t0 = now(), c0 = cpuSeconds()
        var done = 0
        for (atoms, bonds, xyz) in inputs where (try? e3fp.fingerprint(atoms: atoms, bonds: bonds, coordinates: xyz)) != nil { done += 1 }
        let seconds = now() - t0, cpu = cpuSeconds() - c0
        json(["tool": "bioembed", "case": "e3fp", "molecules": done, "seconds": seconds, "mol_per_s": Double(done) / seconds, "cpu_seconds": cpu, "mol_per_cpu_s": Double(done) / cpu])
    }
}
