// node:http as its module object, never as an ES module namespace. Node 24 builds that namespace by
// reading every export, and the lazy WebSocket, CloseEvent and MessageEvent exports load Node's own
// bundled undici: 40-70 ms of start-up and 9-14 MB of a daemon's memory, for nothing used here
// (docs/performance.md). process.getBuiltinModule reads none of them; eslint.config.js forbids a value
// import of node:http in src/.

export const { createServer, STATUS_CODES } = process.getBuiltinModule("node:http");
