/// Where a structure's per-residue confidence (pLDDT) is read from.
public enum ConfidenceSource: String, Sendable, CaseIterable {
    /// ModelCIF `_ma_qa_metric_local` values of a local pLDDT metric (`_ma_qa_metric`).
    case modelCIF = "_ma_qa_metric_local"
    /// The CA atom's B-factor (AlphaFold, ESMFold and ColabFold PDB files write pLDDT there).
    case bFactor = "b_factor"
    /// Not a predicted structure and no `--plddt-mask`: no confidence written (NaN).
    case none = "none"
}
