// The console's views, in navigation order. A view is
//   { id, title, nav, match: RegExp over the hash path, render(root, ctx) }
// where render fills `root` (already empty) and may return a cleanup
// function; ctx is described in app.js.
import chat from './chat.js';
import incidents from './incidents.js';
import detections from './detections.js';
import silences from './silences.js';
import changes from './changes.js';
import runs from './runs.js';
import approvals from './approvals.js';
import audit from './audit.js';

export const VIEWS = [
  incidents,
  detections,
  runs,
  approvals,
  silences,
  changes,
  audit,
  chat,
];
