# Molecules: how many tokens each molecule has.
with h5py.File("{{FILE}}", "r") as f:
    g = f["molecules"]
    lengths = np.diff(g["token_offsets"][()])
    print(f"{len(lengths)} molecules, {lengths.sum()} tokens; median length {np.median(lengths):.0f}")
fig, ax = plt.subplots(figsize=(6, 4))
ax.hist(lengths, bins=30, color="tab:purple")
ax.set_xlabel("input ids per molecule")
ax.set_ylabel("molecules")
show(fig, "molecules_{{INDEX}}")
