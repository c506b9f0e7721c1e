// Writes the inputs of sklearn_metrics.py: the labelled data sets whose cluster metrics the tests
// compare with scikit-learn's. Run from the repository root:
//   npx tsx test/reference/metrics-input.ts > test/reference/metrics-input.json
import { blobs } from '../helpers/blobs.ts';
import { toRows } from '../../pipeline/core/matrix.ts';

// The blobs of test/04-cluster/cluster.test.ts ("three well-separated blobs"): the truth labels are
// the k = 3 partition the selection finds, so scikit-learn's silhouette of them is the best one.
const three = blobs([[0, 0], [10, 0], [0, 10]], [150, 120, 90], 0.8, 7);

const cases = [
  {
    name: 'nine-points',
    // test/04-cluster/metrics.test.ts: the last row deliberately sits in the far cluster.
    X: [[0, 0], [0, 1], [1, 0], [4, 4], [5, 4], [4, 6], [9, 1], [8, 0], [4, 5]],
    labels: [0, 0, 0, 1, 1, 1, 2, 2, 0],
  },
  { name: 'three-blobs', X: toRows(three.X), labels: Array.from(three.truth) },
];
process.stdout.write(JSON.stringify({ command: 'npx tsx test/reference/metrics-input.ts > test/reference/metrics-input.json', cases }) + '\n');
