/** Pure output cleaning: terminal controls, carriage returns, truncation, mime rendering. */
export { stripTerminalControls } from './ansi.js';
export { applyCarriageReturnsAndBackspaces, cleanStreamText } from './carriage.js';
export { truncateMiddle, type TruncatedText } from './truncate.js';
export { renderMimeBundleAsText } from './mime.js';
export { htmlToText, decodeEntities } from './html.js';
