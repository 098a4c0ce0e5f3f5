public enum MoleculeNamespace {}
