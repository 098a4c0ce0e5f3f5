# fMRI: connectivity heatmap of the first subject and the degree distribution.
with h5py.File("{{FILE}}", "r") as f:
    g = f["fmri"]
    ids = g["ids"].asstr()[()]
    regions = g["region_ids"][()]
    print(f"{len(ids)} subjects, {len(regions)} regions")
    # connectivity is a nested collection: its own ids (subjects that failed there are absent)
    conn = g["connectivity"] if "connectivity" in g and "ids" in g["connectivity"] else None
    kinds = [k for k in conn if k not in ("ids", "tangent_mean")] if conn is not None and len(conn["ids"]) else []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    if kinds:
        kind = "correlation" if "correlation" in kinds else kinds[0]
        matrix = conn[kind][0]
        limit = np.nanmax(np.abs(matrix - np.diag(np.diag(matrix)))) or 1.0
        image = axes[0].imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
        fig.colorbar(image, ax=axes[0], shrink=0.8)
        axes[0].set_title(f"{kind}: {conn['ids'].asstr()[0]}")
        if "graph" in g and kind in g["graph"] and "degree" in g["graph"][kind]:
            degree = g["graph"][kind]["degree"][()].ravel()
            title = f"degree (density {g['graph'][kind].attrs.get('density', '?')})"
        else:
            off = np.abs(matrix - np.diag(np.diag(matrix)))
            threshold = np.quantile(off, 0.9)
            degree = (off > threshold).sum(axis=1)
            title = "degree at 10% density (first subject)"
        axes[1].hist(degree, bins=20, color="tab:blue")
        axes[1].set_title(title)
    else:
        offsets = g["timeseries_offsets"][()]
        series = g["timeseries"][offsets[0]:offsets[1]]
        axes[0].plot(series[:, : min(5, series.shape[1])])
        axes[0].set_title(f"cleaned time series: {ids[0]} (5 regions)")
        axes[1].hist(series.std(axis=0), bins=20)
        axes[1].set_title("per-region standard deviation")
    show(fig, "fmri_{{INDEX}}")
