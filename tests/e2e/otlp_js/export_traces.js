// Exports agent traces to an OTLP endpoint with the real OpenTelemetry JS
// SDK (BasicTracerProvider + BatchSpanProcessor + an OTLPTraceExporter), then
// prints {"traces": [{"trace_id", "kind"}...]} on stdout.
// Usage: node export_traces.js URL N [MODE]
//   MODE json (default): exporter-trace-otlp-http (JSON) to URL (.../v1/traces)
//        proto, proto-gzip: exporter-trace-otlp-proto to URL, without / with gzip
//        grpc-gzip: exporter-trace-otlp-grpc to URL (http://HOST:PORT), with gzip
//        grpc-big: exporter-trace-otlp-grpc, no gzip, a 90 kB attribute on each root
//        env: exporter-trace-otlp-proto with no options at all: the endpoint
//             comes from OTEL_EXPORTER_OTLP_ENDPOINT, the encoding is its default
'use strict';
const api = require('@opentelemetry/api');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');

function makeExporter(mode, url) {
  switch (mode) {
    case 'json':
      return new (require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter)({ url });
    case 'proto':
      return new (require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter)({ url });
    case 'proto-gzip':
      return new (require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter)(
        { url, compression: 'gzip' });
    case 'grpc-gzip':
      return new (require('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter)(
        { url, compression: 'gzip' });
    case 'grpc-big':  // uncompressed, with a 90 kB attribute: over a 64 KiB limit
      return new (require('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter)({ url });
    case 'env':
      return new (require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter)();
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}
const { resourceFromAttributes } = require('@opentelemetry/resources');

async function main() {
  const url = process.argv[2];
  const n = parseInt(process.argv[3] || '5', 10);
  const exporter = makeExporter(process.argv[4] || 'json', url);
  const resource = resourceFromAttributes({
    'service.name': 'js-support-bot',
    'deployment.environment.name': 'prod',
    'assay.tenant': 'initech',
  });
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 100 });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = provider.getTracer('assay-e2e', '1.0.0');
  const out = [];
  for (let i = 0; i < n; i++) {
    const openinference = i % 2 === 1;
    const root = tracer.startSpan(openinference ? 'agent' : 'invoke_agent support', {
      kind: api.SpanKind.SERVER,
      attributes: openinference
        ? { 'openinference.span.kind': 'AGENT', 'input.value': `Where is order ${i}?`,
            'session.id': `js-session-${i}`, 'assay.prompt_version': 'v7' }
        : { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.conversation.id': `js-session-${i}`,
            'assay.feature': 'js-support', 'assay.prompt_version': 'v7' },
    });
    const ctx = api.trace.setSpan(api.context.active(), root);
    const tool = tracer.startSpan('execute_tool lookup_order', {
      attributes: openinference
        ? { 'openinference.span.kind': 'TOOL', 'tool.name': 'lookup_order' }
        : { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_order' },
    }, ctx);
    tool.end();
    const answer = `Order ${i} ships tomorrow. Contact me at agent${i}@initech-support.io if needed.`;
    const llm = tracer.startSpan('chat gpt-4o-mini', {
      kind: api.SpanKind.CLIENT,
      attributes: openinference
        ? { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o-mini', 'llm.provider': 'openai',
            'llm.token_count.prompt': 30 + i, 'llm.token_count.completion': 12,
            'llm.input_messages.0.message.role': 'user',
            'llm.input_messages.0.message.content': `Where is order ${i}?`,
            'llm.output_messages.0.message.role': 'assistant',
            'llm.output_messages.0.message.content': answer }
        : { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
            'gen_ai.usage.input_tokens': 30 + i, 'gen_ai.usage.output_tokens': 12,
            'gen_ai.response.finish_reasons': ['stop'],
            'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `Where is order ${i}?` }] }]),
            'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: answer }], finish_reason: 'stop' }]) },
    }, ctx);
    llm.end();
    if (openinference) {
      root.setAttribute('output.value', answer);
    }
    if (process.argv[4] === 'grpc-big') {
      root.setAttribute('assay.padding', 'x'.repeat(90000));
    }
    root.end();
    out.push({ trace_id: root.spanContext().traceId, kind: openinference ? 'openinference' : 'genai' });
  }
  await provider.forceFlush();
  await provider.shutdown();
  process.stdout.write(JSON.stringify({ traces: out }) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
