"""CIFTI-2 and GIFTI test data written by nibabel, and the references the surface path is compared
with: parcel means by nibabel + numpy (CIFTI) and nilearn's SurfaceLabelsMasker (GIFTI).

`hcp_models(scale)` gives the grayordinates of an HCP fsLR 91k file (left cortex 29,696 of
32,492 vertices, right 29,716, 31,870 subcortical voxels in a 91×109×91 volume) at `scale` = 1,
and the same shape smaller for the tests."""
import nibabel as nib
import numpy as np
from nibabel import cifti2 as ci

HCP = {"left": (29696, 32492), "right": (29716, 32492), "voxels": 31870, "volume": (91, 109, 91)}
AFFINE = np.array([[-2.0, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]])
SUBCORTICAL = ["CIFTI_STRUCTURE_THALAMUS_LEFT", "CIFTI_STRUCTURE_THALAMUS_RIGHT", "CIFTI_STRUCTURE_CAUDATE_LEFT",
               "CIFTI_STRUCTURE_CAUDATE_RIGHT", "CIFTI_STRUCTURE_BRAIN_STEM"]


def hcp_models(rng, scale=1.0, cortex_only=False):
    """A BrainModelAxis shaped as HCP's 91k grayordinates (at `scale`), with a seeded medial wall."""
    axes = []
    for side, structure in (("left", "CortexLeft"), ("right", "CortexRight")):
        used, total = (max(3, int(n * scale)) for n in HCP[side])
        mask = np.zeros(total, bool)
        mask[np.sort(rng.choice(total, used, replace=False))] = True
        axes.append(ci.BrainModelAxis.from_mask(mask, name=structure))
    if not cortex_only:
        shape = tuple(max(4, int(n * scale ** (1 / 3))) for n in HCP["volume"])
        count = min(max(5, int(HCP["voxels"] * scale)), int(np.prod(shape)) // 2)
        flat = np.sort(rng.choice(int(np.prod(shape)), count, replace=False))
        ijk = np.stack(np.unravel_index(flat, shape), axis=1)
        parts = np.array_split(np.arange(count), len(SUBCORTICAL))
        for structure, idx in zip(SUBCORTICAL, parts):
            axes.append(ci.BrainModelAxis(structure, voxel=ijk[idx], affine=AFFINE, volume_shape=shape))
    out = axes[0]
    for a in axes[1:]:
        out = out + a
    return out


def write_dtseries(path, data, models, tr):
    """`data` [T, G]: a dense time series with SeriesStep = tr seconds."""
    series = ci.SeriesAxis(start=0, step=tr, size=data.shape[0], unit="second")
    img = ci.Cifti2Image(data, header=(series, models))
    img.nifti_header.set_intent("ConnDenseSeries")
    img.to_filename(str(path))


def write_dlabel(path, keys, models, names=None):
    """`keys` [G]: label keys (0 = unlabelled) as one label map."""
    ids = sorted(set(int(k) for k in np.unique(keys)) | {0})
    table = {k: ((names or {}).get(k, "???" if k == 0 else f"parcel_{k}"), (0.5, 0.5, 0.5, 1.0 if k else 0.0)) for k in ids}
    labels = ci.LabelAxis(["parcellation"], [table])
    img = ci.Cifti2Image(np.asarray(keys, dtype=np.float32)[None, :], header=(labels, models))
    img.nifti_header.set_intent("ConnDenseLabel")
    img.to_filename(str(path))


def parcel_keys(models, parcels, rng):
    """Contiguous-ish parcels: grayordinates in blocks, a few left unlabelled (0)."""
    g = len(models)
    keys = (np.arange(g) * parcels // g + 1).astype(np.int64)
    keys[rng.choice(g, g // 20, replace=False)] = 0
    return keys


def cifti_parcel_means(dtseries, dlabel):
    """nibabel + numpy: [T, R] mean over the grayordinates of each non-zero key, matched by
    (structure, vertex) on surfaces and by ijk in the volume; sorted keys as columns."""
    import scipy.sparse as sp
    ts, lab = nib.load(str(dtseries)), nib.load(str(dlabel))
    data = np.asarray(ts.dataobj, dtype=np.float64)
    keys = np.asarray(lab.dataobj)[0]
    bm_ts, bm_lab = ts.header.get_axis(1), lab.header.get_axis(1)

    def grayordinate_keys(bm):
        return [(n, int(v)) if v >= 0 else tuple(int(x) for x in ijk) for n, v, ijk in zip(bm.name, bm.vertex, bm.voxel)]

    lookup = dict(zip(grayordinate_keys(bm_lab), keys))
    per = np.array([lookup.get(k, 0) for k in grayordinate_keys(bm_ts)], dtype=np.int64)
    ids = np.array(sorted(set(np.unique(keys).astype(np.int64)) - {0}))
    col = np.searchsorted(ids, per)
    hit = (per != 0) & (col < len(ids))
    hit[hit] &= ids[col[hit]] == per[hit]
    counts = np.bincount(col[hit], minlength=len(ids)).astype(np.float64)
    weights = sp.csr_matrix((1.0 / counts[col[hit]], (np.nonzero(hit)[0], col[hit])), shape=(len(per), len(ids)))
    return np.asarray(weights.T.dot(data.T).T), ids


def write_gifti(path, columns, intent="NIFTI_INTENT_TIME_SERIES", encoding="GZipBase64Binary", dtype="float32", structure=None):
    """One data array per column of `columns` [V, T] (T = 1 for a label file)."""
    arrays = [nib.gifti.GiftiDataArray(np.ascontiguousarray(columns[:, k]).astype(dtype), intent=intent,
                                       datatype=dtype, encoding=encoding) for k in range(columns.shape[1])]
    meta = nib.gifti.GiftiMetaData({"AnatomicalStructurePrimary": structure}) if structure else None
    img = nib.gifti.GiftiImage(darrays=arrays, meta=meta)
    if intent == "NIFTI_INTENT_LABEL":
        table = nib.gifti.GiftiLabelTable()
        for k in np.unique(columns):
            label = nib.gifti.GiftiLabel(key=int(k), red=0.5, green=0.5, blue=0.5, alpha=1.0)
            label.label = f"parcel_{int(k)}"
            table.labels.append(label)
        img.labeltable = table
    img.to_filename(str(path), mode="force")  # float64 arrays as written by other tools


def mesh(n, rng):
    from nilearn.surface import InMemoryMesh
    faces = np.array([[i, (i + 1) % n, (i + 2) % n] for i in range(n)])
    return InMemoryMesh(coordinates=rng.normal(size=(n, 3)), faces=faces)


def surface_masker_reference(left, right, label_left, label_right, vertices, rng, **clean):
    """nilearn 0.14.1: SurfaceLabelsMasker(labels_img=...).fit_transform over both hemispheres."""
    from nilearn.maskers import SurfaceLabelsMasker
    from nilearn.surface import PolyMesh, SurfaceImage
    poly = PolyMesh(left=mesh(vertices[0], rng), right=mesh(vertices[1], rng))
    labels = SurfaceImage(mesh=poly, data={"left": str(label_left), "right": str(label_right)})
    img = SurfaceImage(mesh=poly, data={"left": str(left), "right": str(right)})
    confounds = clean.pop("confounds", None)
    masker = SurfaceLabelsMasker(labels_img=labels, **clean).fit()
    return masker.fit_transform(img, confounds=confounds), np.array(masker.labels_)
