// kiln's public API: explicit named exports only.

// Core: loading the WebAssembly core, tensors in its memory.
export { init, initSync, compiledModule, coreInfo } from './core/wasm.ts';
export type { WasmSource, CoreOptions, CoreInfo } from './core/wasm.ts';
export { Tensor, scope } from './core/tensor.ts';
export type { DType } from './core/tensor.ts';
export { CoreAbortError, UnsupportedRuntimeError } from './core/errors.ts';
export { Rng } from './core/ops/random.ts';
export type { Seed } from './core/ops/random.ts';
export { ACTIVATIONS } from './core/activation.ts';
export type { Activation } from './core/activation.ts';
export { INIT_KINDS } from './core/ops/random.ts';
export type { InitKind } from './core/ops/random.ts';

// Models and training.
export { Sequential } from './nn/sequential.ts';
export type { SequentialOptions, Preprocessing, Task as ModelTask, DenseView, LayerSummary } from './nn/sequential.ts';
export {
  dense,
  dropout,
  flatten,
  layerNorm,
  conv2d,
  maxPool2d,
  avgPool2d,
  globalAvgPool2d,
  batchNorm,
  LAYER_TYPES,
} from './nn/layers/index.ts';
export type {
  LayerConfig,
  DenseConfig,
  DropoutConfig,
  FlattenConfig,
  LayerNormConfig,
  Conv2dConfig,
  Conv2dOptions,
  MaxPool2dConfig,
  AvgPool2dConfig,
  Pool2dOptions,
  GlobalAvgPool2dConfig,
  BatchNormConfig,
  Padding,
  Size2,
} from './nn/layers/index.ts';
export type { Predictor, Rows } from './nn/predictor.ts';
export type { LayerHooks } from './core/layer.ts';
export { linearRegression, logisticRegression, softmaxRegression } from './nn/linear-models.ts';
export { fit, DivergenceError } from './train/fit.ts';
export type { FitOptions, EpochLog, StepLog, History, EarlyStopping } from './train/fit.ts';
export type { DistillationLoss, Teacher } from './train/distillation.ts';
export type { Augment } from './train/augment.ts';
export { applyGradients } from './train/apply-gradients.ts';
export type { ApplyGradientsOptions } from './train/apply-gradients.ts';
export { distillationLoss } from './train/losses.ts';
export type { DistillationLossOptions, DistillationLossResult } from './train/losses.ts';
export { gd, sgd, adam, adamw } from './train/optimizers.ts';
export type { Optimizer, SgdOptions, AdamOptions } from './train/optimizers.ts';
export { learningRate } from './train/schedules.ts';
export type { Schedule } from './train/schedules.ts';
export { evaluate } from './train/evaluate.ts';
export type { Evaluation } from './train/evaluate.ts';

// Compression: distillation and pruning.
export { distill } from './compress/distill.ts';
export { foldBatchNorm } from './compress/fold-batch-norm.ts';
export type { DistillOptions, TeacherFunction } from './compress/distill.ts';
export { pruneWeights, layerSparsity } from './compress/prune/unstructured.ts';
export type { PruneWeightsOptions, LayerSparsity } from './compress/prune/unstructured.ts';
export { pruneNeurons, keepUnits, removeDeadNeurons } from './compress/prune/structured.ts';
export { pruneChannels, keepChannels, channelScores, CHANNEL_CRITERIA } from './compress/prune/channels.ts';
export type { PruneChannelsOptions, ChannelCriterion } from './compress/prune/channels.ts';
export type { PruneNeuronsOptions } from './compress/prune/structured.ts';
export { weightScores, neuronScores, WEIGHT_CRITERIA, NEURON_CRITERIA } from './compress/prune/importance.ts';
export type { WeightCriterion, NeuronCriterion, ImportanceOptions } from './compress/prune/importance.ts';
export { polynomialSparsity, pruneIteratively } from './compress/prune/schedule.ts';
export type { PolynomialSchedule, IterativePruneOptions, IterativePruneResult } from './compress/prune/schedule.ts';
export { compressionReport } from './compress/prune/report.ts';
export type { CompressionReport, Latency, ReportOptions } from './compress/prune/report.ts';
export { SparseModel, SPARSE_THRESHOLDS } from './compress/prune/sparse-model.ts';
export type { SparseModelOptions, SparseThresholds } from './compress/prune/sparse-model.ts';
export type { PruneScope } from './compress/prune/rank.ts';

// Compression: quantization.
export { quantize } from './compress/quant/quantize.ts';
export type { QuantizeOptions, CalibrationOptions } from './compress/quant/quantize.ts';
export { QuantizedModel, QUANT_SCHEMES } from './compress/quant/model.ts';
export type { QuantScheme, QuantizedLayer, QuantizedModelSpec, QuantizedModelInfo } from './compress/quant/model.ts';
export { prepareQat, QatSession } from './compress/quant/qat.ts';
export type { QatOptions } from './compress/quant/qat.ts';
export { calibrationRange, CALIBRATION_METHODS } from './compress/quant/calibrate.ts';
export type { CalibrationMethod } from './compress/quant/calibrate.ts';
export {
  calculateQParams,
  quantizeValue,
  dequantizeValue,
  roundHalfEven,
  QUINT8,
  QINT8,
  QINT4,
  QUINT4,
  F32_EPS,
} from './compress/quant/qparams.ts';
export type { QParams, QRange } from './compress/quant/qparams.ts';

// Model search: studies, samplers, pruners, storage (the names are listed one by one there).
export * from './search/index.ts';

// Gradient-based model search (DARTS for MLPs).
export { gradientSearch } from './gradsearch/search.ts';
export type {
  GradientSearchOptions,
  GradientSearchResult,
  GradientSearchRecord,
  GradientSearchEpoch,
  Architecture,
  ArchOptimizerOptions,
} from './gradsearch/search.ts';
export type { GradientCandidates, HiddenLayer, LayerProbabilities, Operation } from './gradsearch/space.ts';

// Model search over MLPs: one space, one settings resolver, one objective (the names are listed there).
export * from './model-search/index.ts';

// The one-command pipeline (search → distil → prune → quantize; the names are listed there) and its HTML report.
export * from './pipeline/index.ts';
export { renderReport } from './report/index.ts';
export type { RenderReportOptions } from './report/index.ts';

// Data.
export { Dataset } from './data/dataset.ts';
export type { DatasetInit, Task as DataTask } from './data/dataset.ts';
export { parseCsv, loadCsv, decodeCsvBytes, CsvError, CSV_ENCODINGS, type CsvEncoding } from './data/csv.ts';
export type { CsvOptions } from './data/csv.ts';
export { iris, mnist } from './data/builtin.ts';
export { imageFolder, type ImageFolderOptions, type ImageFile } from './data/image-folder.ts';
export { spam } from './data/spam.ts';
export type { MnistOptions } from './data/builtin.ts';
export { kFold, trainTestSplit } from './data/split.ts';
export type { SplitOptions, Split, Fold } from './data/split.ts';
export { StandardScaler } from './data/scaler.ts';
export { parseTable, loadTable, tableFromRecords, tableRows, DEFAULT_MISSING } from './data/table.ts';
export type { Table, TableOptions } from './data/table.ts';
export type { ColumnKind } from './data/column-types.ts';
export { TableEncoder } from './data/table-encoder.ts';
export type { TableEncoderOptions, TableEncoderJSON, ColumnCode, ColumnReport } from './data/table-encoder.ts';
export { splitTable, tableLabels, tableDataset } from './data/table-data.ts';
export type { TableSplitOptions, TableSplit, TableLabelOptions, TableLabels } from './data/table-data.ts';
export { tableInputs, inputEncoder } from './data/table-inputs.ts';
export type { InputDescription, TableInputs } from './data/table-inputs.ts';
export type { StandardScalerJSON } from './data/scaler.ts';

// Metrics.
export { accuracy, confusionMatrix, classificationReport, logLoss } from './metrics/classification.ts';
export type { ClassificationReport } from './metrics/classification.ts';
export { meanSquaredError, rootMeanSquaredError, meanAbsoluteError, r2Score } from './metrics/regression.ts';
export { modelFile, nonZeros, timeCalls, batchOf, quantile } from './metrics/measure.ts';
export type { ModelFile, Timing, Predict } from './metrics/measure.ts';

// Files.
export { encodeSafetensors, decodeSafetensors, ModelFileError } from './io/safetensors.ts';
export type { SafetensorsDType, SafetensorsTensor, DecodedSafetensors } from './io/safetensors.ts';
export { writeFileAtomic, FileAccessError } from './io/atomic-write.ts';
export { modelToBytes, modelFromBytes, saveModel, loadModel } from './io/model-file.ts';
export {
  optimizerStateToBytes,
  optimizerStateFromBytes,
  saveOptimizerState,
  loadOptimizerState,
  optimizerStatePath,
} from './io/optimizer-file.ts';
export {
  quantizedModelToBytes,
  quantizedModelFromBytes,
  saveQuantizedModel,
  loadQuantizedModel,
  QUANTIZED_FORMAT,
} from './compress/quant/file.ts';
export type { QuantizedFileOptions } from './compress/quant/file.ts';
export { sparseModelToBytes, sparseModelFromBytes, saveSparseModel, loadSparseModel, SPARSE_MODEL_FORMAT } from './io/sparse-file.ts';

// Interchange: ONNX in and out.
export { exportOnnx, ONNX_OPSET } from './onnx/export.ts';
export type { ExportOnnxOptions } from './onnx/export.ts';
export { importOnnx, IMPORT_OPSETS } from './onnx/import.ts';
export type { ImportOnnxOptions } from './onnx/import.ts';
export { OnnxError } from './onnx/errors.ts';
export type { ExportableModel } from './onnx/adapter.ts';
