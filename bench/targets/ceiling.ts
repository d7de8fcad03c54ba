/**
 * The ceiling: a bare node:http server that reads each request and answers
 * with the same response bytes a gateway produced (`RESPONSE_PATH`). Nothing
 * a gateway does can be faster on this machine with this load generator.
 * Run by the benchmark as its own process; `PORT` required, `HOST` default
 * 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const path = process.env.RESPONSE_PATH;
const port = Number(process.env.PORT);
if (!path || !Number.isInteger(port)) throw new Error('RESPONSE_PATH and PORT are required');
const body = readFileSync(path);
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) };

const server = createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 120_000;
server.listen(port, process.env.HOST ?? '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
