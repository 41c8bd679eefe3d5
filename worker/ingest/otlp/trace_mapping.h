#pragma once
// Attribute mapping: one group of OTLP spans of the same trace → one Assay
// trace JSON value (the contract in README.md, "Trace format"), for every
// door (HTTP JSON, HTTP protobuf, gRPC: they decode into the same spans).
// The conventions read — OpenTelemetry GenAI, OpenInference, OpenLLMetry
// (Traceloop), Langfuse, and Assay's own assay.* — and their order of
// preference (assay.*, then GenAI, then the others) are all here.
//
// Attribute mapping (root span R; "span, else resource" = R's attribute, else
// R's resource attribute; the first key present wins; "any span" = R's, else
// the first span in start order that has it — Langfuse's SDKs set trace-level
// attributes on whichever span is current):
//   input           langfuse.trace.input (any span); else
//                   R: gen_ai.input.messages (JSON string or array; GenAI
//                   {role, parts} or OpenAI {role, content}; prefixed by
//                   gen_ai.system_instructions), llm.input_messages.N.message.*
//                   (role, content, contents.M.message_content.text),
//                   gen_ai.prompt.N.{role,content}, gen_ai.prompt, event
//                   gen_ai.content.prompt, input.value, traceloop.entity.input,
//                   langfuse.observation.input; else the first agent span
//                   (by start: the outermost) that has one; else the first LLM
//                   child (by start) that has one. Text that is a JSON message
//                   list becomes messages; when input.mime_type is
//                   application/json, {"messages": [...]}, {"choices": [...]}
//                   and a small object's input/query/question/prompt/output/
//                   answer/text/content/result string are unwrapped too; with
//                   text/plain the text is kept as it is
//   output          the same with langfuse.trace.output, gen_ai.output.messages,
//                   llm.output_messages, gen_ai.completion(.N), output.value,
//                   traceloop.entity.output, langfuse.observation.output; else
//                   the first agent span that has one; else the LLM child
//                   that ended last and has one
//   context         retrieval.documents.N.document.content of every span
//   reference       assay.reference (span, else resource)
//   metadata.model  assay.model, R's gen_ai.response.model,
//                   gen_ai.request.model, llm.model_name,
//                   langfuse.observation.model.name; else the last LLM child's
//   metadata.provider  gen_ai.provider.name, gen_ai.system, llm.provider, llm.system
//   metadata.feature   assay.feature, langfuse.trace.name (any span), service.name
//   tenant          assay.tenant, tenant.id
//   user_id         assay.user_id, user.id, enduser.id, langfuse.user.id (any span)
//   session_id      assay.session_id, gen_ai.conversation.id, session.id,
//                   langfuse.session.id (any span)
//   prompt_name     assay.prompt_name
//   prompt_version  assay.prompt_version, llm.prompt_template.version
//   environment     assay.environment, deployment.environment.name, deployment.environment,
//                   langfuse.environment (any span)
//   expected_format assay.expected_format
//   tags            assay.tags (array, JSON array text, or comma-separated string),
//                   tag.tags, langfuse.trace.tags (any span)
//   other metadata  assay.<key> → <key>; langfuse.trace.metadata.<key> → <key> and
//                   the keys of a langfuse.trace.metadata JSON object (any span;
//                   never a well-known key); then every other attribute of R and
//                   of its resource under its own key (R wins), except the
//                   content keys above; at most max_metadata_keys, strings cut
//                   at max_value_bytes
//   metadata.spans  [{name, kind: llm|tool|retriever|agent, start_ms (from R's
//                   start), duration_ms, model, input_tokens, output_tokens,
//                   reasoning_tokens, tool, agent (gen_ai.agent.name), error,
//                   input, output (the span's own, as for R above, else a
//                   tool's gen_ai.tool.call.arguments / .result; cut at
//                   max_value_bytes)}] for spans below
//                   R, in start order, at most max_summary_spans
//                   (spans_omitted counts the rest); plus otel.root_span,
//                   otel.span_count, otel.dropped_spans, otel.incomplete
//   usage           R's gen_ai.usage.input_tokens|prompt_tokens /
//                   llm.token_count.prompt, ...output_tokens|completion_tokens /
//                   llm.token_count.completion, gen_ai.usage.cache_read.input_tokens /
//                   llm.token_count.prompt_details.cache_read, reasoning_tokens from
//                   gen_ai.usage.reasoning.output_tokens | reasoning_tokens |
//                   output_tokens.reasoning / llm.token_count.completion_details.reasoning
//                   (part of output_tokens), Langfuse's
//                   langfuse.observation.usage_details {input, output, ...},
//                   assay.cost_usd / llm.cost.total; when R has none, the sum over
//                   LLM children (never agent spans: their counts sum their children's)
//   finish_reason   first of gen_ai.response.finish_reasons, else the first
//                   OpenLLMetry gen_ai.completion.N.finish_reason (R, else last LLM child)
//   trace_id, timestamp, latency_ms   OTLP trace id (hex), R's start (RFC 3339), R's end - start
//   error           incomplete_trace (expiry rule); span_error when R's status
//                   is ERROR (status.message, else the "exception" event's
//                   exception.type: exception.message); missing_output when no
//                   span carries an output (output is then null)
// A span is a tool span when openinference.span.kind is TOOL,
// gen_ai.operation.name is execute_tool, langfuse.observation.type is tool, or
// traceloop.span.kind is tool, or it has gen_ai.tool.name; a retriever span when the kind or type
// is RETRIEVER or it has retrieval.documents.*; an agent span when the kind or type (or
// traceloop.span.kind) is AGENT or the operation is invoke_agent/create_agent; an LLM span when the
// kind is LLM, the operation chat/text_completion/generate_content, or the type generation (or,
// with none of the three, it has
// gen_ai.request.model/gen_ai.system/gen_ai.provider.name/llm.model_name).
// Other operations (embeddings, ...) are none of these.
//
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/otlp/mapper.h"
#include "ingest/otlp/trace_assembler.h"

namespace assay {

// Builds the Assay trace JSON for one group of spans of the same trace (the
// mapping documented in README.md, "OTLP attribute mapping"). `root` indexes
// the root span in `spans` (a bug unless < spans.size()). When
// `incomplete_reason` is non-empty the trace carries error
// {"type": "incomplete_trace", "message": reason}. Attribute values of any
// shape are handled; never throws on span content. Pure.
nlohmann::json build_trace_value(const std::vector<OtlpSpan>& spans, size_t root,
                                 const AssemblerOptions& options,
                                 const std::string& incomplete_reason = {},
                                 size_t dropped_spans = 0);
// The same, as compact JSON text (for tests and tools).
std::string build_trace_json(const std::vector<OtlpSpan>& spans, size_t root,
                             const AssemblerOptions& options,
                             const std::string& incomplete_reason = {}, size_t dropped_spans = 0);

}  // namespace assay
