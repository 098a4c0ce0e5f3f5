# Proteins: 3Di token composition over all chains, and the contact map of the first chain.
with h5py.File("{{FILE}}", "r") as f:
    g = f["proteins"]
    ids = g["ids"].asstr()[()]
    tokens = "".join(g["tokens_3di"].asstr()[()])
    offsets = g["residue_offsets"][()]
    print(f"{len(ids)} chains, {offsets[-1]} residues")
    letters = sorted(set(tokens))
    counts = [tokens.count(c) / max(1, len(tokens)) for c in letters]
    ca = g["ca"][offsets[0]:offsets[1]]
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].bar(letters, counts, color="tab:green")
axes[0].set_title("3Di token composition")
distance = np.linalg.norm(ca[:, None, :] - ca[None, :, :], axis=-1)
axes[1].imshow(distance < 8.0, cmap="Greys", interpolation="nearest")
axes[1].set_title(f"Cα contacts < 8 Å: {ids[0]}")
show(fig, "proteins_{{INDEX}}")
