# Embeddings: a 2-D projection (PCA) of each embedding set.
with h5py.File("{{FILE}}", "r") as f:
    models = list(f["embeddings"])
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        pooled = f["embeddings"][model]["pooled"][()].astype(np.float64)
        centered = pooled - pooled.mean(axis=0)
        if len(pooled) >= 2:
            _, _, vt = np.linalg.svd(centered, full_matrices=False)
            xy = centered @ vt[:2].T
            if xy.shape[1] < 2:
                xy = np.column_stack([xy[:, 0], np.zeros(len(xy))])
        else:
            xy = np.zeros((len(pooled), 2))
        ax.scatter(xy[:, 0], xy[:, 1], s=12)
        ax.set_title(f"{model}: {pooled.shape[0]} × {pooled.shape[1]}")
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
show(fig, "embeddings_{{INDEX}}")
