// Stands in for the `long` package in the bundles: protobufjs then reads and writes int64 fields
// as plain numbers, which holds every value an ONNX model of kiln's has (dims, opsets, attributes
// below 2^53), and the bundle carries 32 KiB less.
module.exports = null;
