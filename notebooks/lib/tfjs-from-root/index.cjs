// danfojs's @tensorflow/tfjs is the root package's copy, the one the pipeline loads. Two copies in
// one process would share tfjs's global engine and kernel registry: every kernel registered twice,
// with a warning each. The version above is the root's, which danfojs 1.2.0 works with.
const { createRequire } = require('node:module');
const { join } = require('node:path');

module.exports = createRequire(join(__dirname, '..', '..', '..', 'package.json'))('@tensorflow/tfjs');
