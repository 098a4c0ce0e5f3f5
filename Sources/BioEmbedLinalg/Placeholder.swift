public enum LinalgNamespace {}
