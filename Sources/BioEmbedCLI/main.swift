print("bioembed")
