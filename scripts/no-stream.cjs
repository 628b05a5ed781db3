// Stands in for Node's `stream` in the bundles: Papa Parse requires it only inside its Node
// duplex-stream reader (Papa.NODE_STREAM_INPUT), which kiln never uses (it parses whole strings),
// so the bundles need neither the module nor a polyfill of it.
module.exports = {};
