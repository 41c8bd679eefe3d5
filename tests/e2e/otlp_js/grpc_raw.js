// Sends one raw message to TraceService/Export over gRPC with the real
// @grpc/grpc-js client, and prints {"code", "details"} on stdout (code 0: OK).
// Usage: node grpc_raw.js HOST:PORT SIZE [gzip]
//   SIZE bytes: a resourceSpans field (1) whose bytes are all 'x' (it does not
//   decode as a ResourceSpans: a well-formed field, not a valid message).
// @grpc/grpc-js comes with @opentelemetry/exporter-trace-otlp-grpc (package-lock.json).
'use strict';
const grpc = require('@grpc/grpc-js');

const [addr, sizeArg, compression] = process.argv.slice(2);
const size = parseInt(sizeArg, 10);
const varint = [];
for (let v = size; ; v = Math.floor(v / 128)) {
  if (v < 128) { varint.push(v); break; }
  varint.push((v % 128) | 128);
}
const message = Buffer.concat([Buffer.from([0x0a, ...varint]), Buffer.alloc(size, 'x')]);
const options = { 'grpc.max_send_message_length': -1 };
if (compression === 'gzip') {
  options['grpc.default_compression_algorithm'] = 2;  // gzip
}
const client = new grpc.Client(addr, grpc.credentials.createInsecure(), options);
client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  (b) => b, (b) => b, message, { deadline: Date.now() + 20000 },
  (err) => {
    process.stdout.write(JSON.stringify(err ? { code: err.code, details: err.details }
                                            : { code: 0, details: '' }) + '\n');
    client.close();
  });
