public enum PipelineNamespace {}
