# Files (the checksum stage): sizes and the mean byte histogram of the inputs.
with h5py.File("{{FILE}}", "r") as f:
    g = f["files"]
    ids = g["ids"].asstr()[()]
    sizes = g["content_size"][()]
    histogram = g["byte_histogram"][()].astype(np.float64)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].barh(range(len(ids)), sizes / 1024, color="tab:orange")
axes[0].set_yticks(range(len(ids)), [i[:30] for i in ids], fontsize=7)
axes[0].set_xlabel("content size (KiB)")
share = histogram / np.maximum(histogram.sum(axis=1, keepdims=True), 1)
axes[1].plot(share.mean(axis=0))
axes[1].set_xlabel("byte value")
axes[1].set_ylabel("mean share")
show(fig, "files_{{INDEX}}")
