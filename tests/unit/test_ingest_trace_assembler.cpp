#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/trace_json.h"
#include "core/trace_sax.h"
#include "ingest/otlp/mapper.h"
#include "ingest/otlp/trace_assembler.h"
#include "ingest/otlp/trace_mapping.h"

using namespace assay;

namespace {

constexpr int64_t k_t0 = 1795341600000;  // 2026-11-22T10:00:00Z, when the tests "receive" spans

std::vector<OtlpSpan> load(const std::string& name) {
    std::ifstream in(std::string(ASSAY_SOURCE_DIR) + "/tests/data/otlp/" + name, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream ss;
    ss << in.rdbuf();
    auto r = parse_otlp_json(ss.str());
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return std::move(r).value();
}

Trace parse(const AssembledTrace& a) {
    auto r = trace_from_json(a.value, k_t0);
    REQUIRE_MESSAGE(r.ok(), std::string(r.status().message() + "\n" + a.value.dump()));
    return std::move(r).value();
}

nlohmann::json as_json(const AssembledTrace& a) { return a.value; }

// The one trace `spans` make, once complete.
AssembledTrace assemble_one(std::vector<OtlpSpan> spans) {
    TraceAssembler as;
    REQUIRE(as.add(std::move(spans), k_t0).ok());
    auto done = as.take_complete(k_t0 + 10000);
    REQUIRE(done.size() == 1);
    return std::move(done[0]);
}

OtlpSpan span(const std::string& trace, const std::string& id, const std::string& parent,
              bool ended, OtlpSpanKind kind = OtlpSpanKind::internal) {
    OtlpSpan s;
    s.trace_id = trace;
    s.span_id = id;
    s.parent_span_id = parent;
    s.name = "span " + id;
    s.kind = kind;
    s.start_unix_nano = static_cast<uint64_t>(k_t0) * 1000000;
    s.start_unix_ms = k_t0;
    if (ended) {
        s.end_unix_nano = s.start_unix_nano + 5000000;
        s.end_unix_ms = k_t0 + 5;
        s.ended = true;
    }
    s.attributes["output.value"] = "out " + id;
    s.resource_attributes = std::make_shared<AttributeMap>();
    return s;
}

const std::string k_trace = "11111111111111111111111111111111";

}  // namespace

TEST_CASE("trace assembler: a GenAI chat span becomes an Assay trace") {
    TraceAssembler as;
    REQUIRE(as.add(load("genai_chat.json"), k_t0).ok());
    CHECK(as.open_traces() == 1);
    CHECK(as.open_spans() == 1);
    CHECK(as.take_complete(k_t0 + 1999).empty());
    auto done = as.take_complete(k_t0 + 2000);
    REQUIRE(done.size() == 1);
    CHECK(done[0].complete);
    CHECK(as.open_traces() == 0);
    CHECK(as.open_spans() == 0);

    const Trace t = parse(done[0]);
    CHECK(t.trace_id == "5b8efff798038103d269b633813fc60c");
    CHECK(t.timestamp_ms == k_t0);
    CHECK(t.input_messages.size() == 2);
    CHECK(t.input_messages[0].role == "system");
    CHECK(t.input == "You are a concise support assistant.\n\nHow do I reset my password?");
    CHECK(t.output == "Open Settings > Security and click 'Reset password'.");
    CHECK(t.metadata.model == "gpt-4o-mini-2024-07-18");  // response model wins over request model
    CHECK(t.metadata.feature == "password-help");         // assay.feature wins over service.name
    CHECK(t.metadata.tenant == "acme");                   // from a resource attribute
    CHECK(t.metadata.prompt_version == "7");
    CHECK(t.metadata.user_id == "u-123");
    CHECK(t.metadata.environment == "prod");
    CHECK(t.metadata.get("provider") == std::optional<std::string>("openai"));
    CHECK(t.metadata.get("service.name") == std::optional<std::string>("support-bot"));
    CHECK(t.metadata.get("gen_ai.request.temperature") == std::optional<std::string>("0.2"));
    CHECK_FALSE(
        t.metadata.extra.contains("gen_ai.input.messages"));  // content is not copied into metadata
    CHECK(t.usage.input_tokens == 42);
    CHECK(t.usage.output_tokens == 17);
    CHECK(t.finish_reason == "stop");
    REQUIRE(t.latency_ms.has_value());
    CHECK(*t.latency_ms == doctest::Approx(812.0));
    CHECK_FALSE(t.error.has_value());
}

TEST_CASE("trace assembler: an OpenInference RAG pipeline") {
    TraceAssembler as;
    REQUIRE(as.add(load("openinference_rag.json"), k_t0).ok());
    auto done = as.take_complete(k_t0 + 5000);
    REQUIRE(done.size() == 1);
    const Trace t = parse(done[0]);
    CHECK(t.trace_id == "0af7651916cd43dd8448eb211c80319c");
    CHECK(t.input == "What is the refund window?");  // the "query" of a JSON input.value
    CHECK(t.output == "Refunds are accepted within 30 days of purchase.");
    REQUIRE(t.context.size() == 2);
    CHECK(t.context[0] == "Refund policy: items may be returned within 30 days.");
    CHECK(t.metadata.model == "gpt-4o");     // from the LLM child: the root has none
    CHECK(t.metadata.feature == "docs-qa");  // resource service.name
    CHECK(t.metadata.session_id == "sess-9");
    CHECK(t.metadata.has_tag("rag"));
    CHECK(t.usage.input_tokens == 310);  // summed over LLM children
    CHECK(t.usage.output_tokens == 12);
    CHECK(t.latency_ms == doctest::Approx(1530.0));

    const auto md = as_json(done[0])["metadata"];
    REQUIRE(md["spans"].size() == 2);
    CHECK(md["spans"][0]["kind"] == "retriever");
    CHECK(md["spans"][1]["kind"] == "llm");
    CHECK(md["spans"][1]["model"] == "gpt-4o");
    CHECK(md["spans"][1]["duration_ms"] == doctest::Approx(1370.0));
    CHECK(md["otel.span_count"] == 3);
    CHECK(md["otel.root_span"] == "RetrievalQA");
}

TEST_CASE("trace assembler: an agent's spans from two requests are merged") {
    TraceAssembler as;
    REQUIRE(as.add(load("agent_part1.json"), k_t0).ok());
    // Tools and LLM calls ended, but the root has not arrived: never returned, however long we wait
    // (short of the max age).
    CHECK(as.take_complete(k_t0 + 60000).empty());
    CHECK(as.open_spans() == 3);
    REQUIRE(as.add(load("agent_part2.json"), k_t0 + 60000).ok());
    CHECK(as.open_traces() == 1);
    CHECK(as.open_spans() == 5);
    CHECK(as.take_complete(k_t0 + 61999).empty());
    auto done = as.take_complete(k_t0 + 62000);
    REQUIRE(done.size() == 1);
    CHECK(done[0].span_count == 5);

    const Trace t = parse(done[0]);
    CHECK(t.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
    // The root has no input/output: first LLM child's input, last LLM child's output.
    CHECK(t.input == "What's the weather in Paris, and should I bring an umbrella?");
    CHECK(t.output == "It is 12°C and raining in Paris: bring an umbrella.");
    CHECK(t.metadata.feature == "trip-planner");
    CHECK(t.metadata.tenant == "globex");
    CHECK(t.metadata.session_id == "s-77");
    CHECK(t.metadata.model == "claude-sonnet-4");
    CHECK(t.finish_reason == "stop");
    CHECK(t.usage.input_tokens == 300);
    CHECK(t.usage.output_tokens == 45);
    CHECK(t.latency_ms == doctest::Approx(2350.0));
    CHECK_FALSE(t.error.has_value());  // a failing tool does not fail the trace...

    const auto spans = as_json(done[0])["metadata"]["spans"];
    REQUIRE(spans.size() == 4);
    CHECK(spans[0]["kind"] == "llm");
    CHECK(spans[1]["kind"] == "tool");
    CHECK(spans[1]["tool"] == "get_weather");
    CHECK(spans[2]["error"] == "timeout after 30 ms");  // ...but is recorded
    CHECK(spans[3]["input_tokens"] == 180);

    // A retried export of the same spans after the trace was returned is dropped, not a second
    // trace.
    REQUIRE(as.add(load("agent_part2.json"), k_t0 + 70000).ok());
    CHECK(as.open_traces() == 0);
    CHECK(as.stats().late_spans == 2);
    CHECK(as.take_complete(k_t0 + 100000).empty());
}

TEST_CASE("trace assembler: never before the root has ended") {
    TraceAssembler as;
    REQUIRE(as.add({span(k_trace, "aaaaaaaaaaaaaaa1", "", false),
                    span(k_trace, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", true)},
                   k_t0)
                .ok());
    CHECK(as.take_complete(k_t0 + 10000).empty());
    CHECK(as.take_complete(k_t0 + 299999).empty());
    // The ended root arrives (same span id: it replaces the unended copy) and resets the idle
    // timer.
    REQUIRE(as.add({span(k_trace, "aaaaaaaaaaaaaaa1", "", true)}, k_t0 + 20000).ok());
    CHECK(as.open_spans() == 2);
    CHECK(as.take_complete(k_t0 + 21999).empty());
    auto done = as.take_complete(k_t0 + 22000);
    REQUIRE(done.size() == 1);
    CHECK(done[0].complete);
    CHECK(parse(done[0]).output == "out aaaaaaaaaaaaaaa1");
}

TEST_CASE("trace assembler: never before idle_ms after the last span") {
    AssemblerOptions o;
    o.idle_ms = 500;
    TraceAssembler as(o);
    REQUIRE(as.add({span(k_trace, "aaaaaaaaaaaaaaa1", "", true)}, k_t0).ok());
    CHECK(as.take_complete(k_t0 + 400).empty());
    // A late child arriving after the root ended restarts the wait.
    REQUIRE(as.add({span(k_trace, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", true)}, k_t0 + 400).ok());
    CHECK(as.take_complete(k_t0 + 600).empty());
    CHECK(as.take_complete(k_t0 + 899).empty());
    auto done = as.take_complete(k_t0 + 900);
    REQUIRE(done.size() == 1);
    CHECK(done[0].span_count == 2);
}

TEST_CASE("trace assembler: a pinned trace is held back until every pin is released") {
    AssemblerOptions o;
    o.idle_ms = 500;
    o.max_trace_age_ms = 1000;
    TraceAssembler as(o);
    REQUIRE(as.add({span(k_trace, "aaaaaaaaaaaaaaa1", "", true)}, k_t0).ok());
    as.pin({k_trace, "ffffffffffffffffffffffffffffffff"});  // an unknown id is ignored
    as.pin({k_trace});
    // Neither complete nor expired while pinned.
    CHECK(as.take_complete(k_t0 + 600).empty());
    CHECK(as.take_complete(k_t0 + 5000).empty());
    as.unpin({k_trace});
    CHECK(as.take_complete(k_t0 + 5000).empty());  // one pin still held
    as.unpin({k_trace, "ffffffffffffffffffffffffffffffff"});
    auto done = as.take_complete(k_t0 + 5000);
    REQUIRE(done.size() == 1);
    CHECK(done[0].complete);
    as.unpin({k_trace});  // no longer open: ignored
    CHECK(as.open_traces() == 0);
}

TEST_CASE("trace assembler: an orphan child whose root never arrives expires as incomplete") {
    AssemblerOptions o;
    o.max_trace_age_ms = 60000;
    TraceAssembler as(o);
    REQUIRE(
        as.add({span(k_trace, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", true, OtlpSpanKind::client)},
               k_t0)
            .ok());
    CHECK(as.take_complete(k_t0 + 59999).empty());
    auto done = as.take_complete(k_t0 + 60000);
    REQUIRE(done.size() == 1);
    CHECK_FALSE(done[0].complete);
    CHECK(done[0].reason.find("no root span arrived within 60000 ms") != std::string::npos);
    CHECK(as.open_traces() == 0);
    CHECK(as.stats().expired == 1);
    const Trace t = parse(done[0]);
    REQUIRE(t.error.has_value());
    CHECK(t.error->type == "incomplete_trace");
    CHECK(as_json(done[0])["metadata"]["otel.incomplete"] == true);

    // A root that never ends expires too.
    TraceAssembler as2(o);
    REQUIRE(as2.add({span(k_trace, "aaaaaaaaaaaaaaa1", "", false)}, k_t0).ok());
    done = as2.take_complete(k_t0 + 60000);
    REQUIRE(done.size() == 1);
    CHECK(done[0].reason.find("had not ended") != std::string::npos);
}

TEST_CASE("trace assembler: a SERVER span with a remote parent is a root") {
    TraceAssembler as;
    REQUIRE(
        as.add({span(k_trace, "aaaaaaaaaaaaaaa2", "ffffffffffffff01", true, OtlpSpanKind::server)},
               k_t0)
            .ok());
    auto done = as.take_complete(k_t0 + 2000);
    REQUIRE(done.size() == 1);
    CHECK(done[0].complete);

    // So is any span whose flags mark its parent as remote.
    auto s = span(k_trace, "aaaaaaaaaaaaaaa2", "ffffffffffffff01", true, OtlpSpanKind::internal);
    s.parent_is_remote = true;
    REQUIRE(as.add({s}, k_t0 + 3000).ok());  // k_trace was returned: a late span, dropped
    CHECK(as.stats().late_spans == 1);
    s.trace_id = "77777777777777777777777777777777";
    REQUIRE(as.add({s}, k_t0 + 3000).ok());
    CHECK(as.take_complete(k_t0 + 5000).size() == 1);
}

TEST_CASE("trace assembler: bounded memory") {
    AssemblerOptions o;
    o.max_open_traces = 2;
    o.max_spans_per_trace = 2;
    o.max_open_spans = 5;
    TraceAssembler as(o);
    const std::string t2 = "22222222222222222222222222222222";
    const std::string t3 = "33333333333333333333333333333333";
    REQUIRE(as.add({span(k_trace, "aaaaaaaaaaaaaaa1", "", true),
                    span(k_trace, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", true),
                    span(k_trace, "aaaaaaaaaaaaaaa3", "aaaaaaaaaaaaaaa1", true)},
                   k_t0)
                .ok());
    CHECK(as.open_spans() == 2);
    CHECK(as.stats().overflow_spans == 1);
    REQUIRE(as.add({span(t2, "aaaaaaaaaaaaaaa1", "", true)}, k_t0).ok());
    // A third trace is refused as a whole: the caller answers 503.
    Status s = as.add({span(t2, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", true),
                       span(t3, "aaaaaaaaaaaaaaa1", "", true)},
                      k_t0);
    CHECK(s.code() == StatusCode::unavailable);
    CHECK(as.open_spans() == 3);
    CHECK(as.stats().refused_batches == 1);
    CHECK(as.pending_spans().size() == 3);

    auto done = as.take_complete(k_t0 + 2000);
    REQUIRE(done.size() == 2);
    CHECK(done[0].trace_id == k_trace);  // in order of first arrival
    CHECK(done[0].dropped_spans == 1);
    CHECK(as_json(done[0])["metadata"]["otel.dropped_spans"] == 1);
    CHECK(as.add({span(t3, "aaaaaaaaaaaaaaa1", "", true)}, k_t0 + 2000).ok());
    // A request that could never fit is refused for good.
    s = as.add({span("44444444444444444444444444444444", "aaaaaaaaaaaaaaa1", "", true),
                span("55555555555555555555555555555555", "aaaaaaaaaaaaaaa1", "", true),
                span("66666666666666666666666666666666", "aaaaaaaaaaaaaaa1", "", true)},
               k_t0 + 2000);
    CHECK(s.code() == StatusCode::limit_exceeded);
}

TEST_CASE("trace assembler: pending spans are bounded in bytes") {
    // Issue 18, item 4: never-ending traces with large attributes were held
    // whatever their size. New traces are refused past max_open_bytes (503),
    // spans of open traces past 5/4 of it, a batch over it for good (413).
    auto big = [](const std::string& trace, const std::string& id, const std::string& parent) {
        OtlpSpan s = span(trace, id, parent, false);
        s.attributes["payload"] = std::string(100000, 'x');
        return s;
    };
    AssemblerOptions o;
    o.max_open_bytes = 350000;
    TraceAssembler as(o);
    const std::string t2 = "22222222222222222222222222222222";
    const std::string t3 = "33333333333333333333333333333333";
    REQUIRE(as.add({big(k_trace, "aaaaaaaaaaaaaaa1", "")}, k_t0).ok());
    REQUIRE(as.add({big(t2, "aaaaaaaaaaaaaaa1", "")}, k_t0).ok());
    REQUIRE(as.add({big(t3, "aaaaaaaaaaaaaaa1", "")}, k_t0).ok());
    CHECK(as.stats().open_bytes > 300000);
    Status s = as.add({big("44444444444444444444444444444444", "aaaaaaaaaaaaaaa1", "")}, k_t0);
    CHECK(s.code() == StatusCode::unavailable);
    CHECK(s.message().find("worker.otlp_max_pending_bytes") != std::string::npos);
    // Replacing a span (an exporter's retry) does not count it twice.
    const size_t held = as.stats().open_bytes;
    CHECK(as.add({big(t2, "aaaaaaaaaaaaaaa1", "")}, k_t0).ok());
    CHECK(as.stats().open_bytes == held);
    // An open trace may still grow a little, to finish.
    CHECK(as.add({big(t2, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1")}, k_t0).ok());
    CHECK(as.add({big(t3, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1")}, k_t0).code() ==
          StatusCode::unavailable);
    // Expired traces give their bytes back.
    auto gone = as.take_complete(k_t0 + o.max_trace_age_ms);
    CHECK(gone.size() == 3);
    CHECK(as.stats().open_bytes == 0);
    OtlpSpan huge = span("77777777777777777777777777777777", "aaaaaaaaaaaaaaa9", "", false);
    huge.attributes["payload"] = std::string(400000, 'x');
    CHECK(as.add({huge}, k_t0 + o.max_trace_age_ms).code() == StatusCode::limit_exceeded);
}

TEST_CASE("trace assembler: root errors, missing output, summary bounds") {
    AssemblerOptions o;
    o.max_summary_spans = 1;
    auto root = span(k_trace, "aaaaaaaaaaaaaaa1", "", true);
    root.status_code = OtlpStatusCode::error;
    root.attributes.clear();
    root.events.push_back(
        {"exception", k_t0, {{"exception.type", "RateLimitError"}, {"exception.message", "429"}}});
    std::vector<OtlpSpan> spans{root};
    for (int i = 2; i <= 4; ++i) {
        auto c = span(k_trace, "aaaaaaaaaaaaaaa" + std::to_string(i), "aaaaaaaaaaaaaaa1", true);
        c.attributes = {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.name", "t"}};
        spans.push_back(c);
    }
    const std::string text = build_trace_json(spans, 0, o);
    auto r = parse_trace(text, ParseLimits{}, k_t0);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    REQUIRE(r->error.has_value());
    CHECK(r->error->type == "span_error");
    CHECK(r->error->message == "RateLimitError: 429");
    const auto md = nlohmann::json::parse(text)["metadata"];
    CHECK(md["spans"].size() == 1);
    CHECK(md["spans_omitted"] == 2);

    // No span carries an output: still a valid trace, with an error saying so.
    root.status_code = OtlpStatusCode::unset;
    r = parse_trace(build_trace_json({root}, 0, o), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->error->type == "missing_output");
}

TEST_CASE("trace assembler: older GenAI and flattened attribute spellings") {
    auto s = span(k_trace, "aaaaaaaaaaaaaaa1", "", true);
    s.attributes = {{"gen_ai.prompt.0.role", "user"},
                    {"gen_ai.prompt.0.content", "hi"},
                    {"gen_ai.completion.0.role", "assistant"},
                    {"gen_ai.completion.0.content", "hello"},
                    {"gen_ai.system", "openai"},
                    {"gen_ai.request.model", "gpt-4"},
                    {"gen_ai.usage.prompt_tokens", 3},
                    {"gen_ai.usage.completion_tokens", 1},
                    {"assay.tags", "a, b"},
                    {"assay.expected_format", "json"},
                    {"assay.reference", "hello"},
                    {"assay.custom_key", 5}};
    auto r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->input == "hi");
    CHECK(r->output == "hello");
    CHECK(r->metadata.model == "gpt-4");
    CHECK(r->metadata.get("provider") == std::optional<std::string>("openai"));
    CHECK(r->usage.input_tokens == 3);
    CHECK(r->metadata.has_tag("b"));
    CHECK(r->metadata.expected_format == "json");
    CHECK(r->reference == std::optional<std::string>("hello"));
    CHECK(r->metadata.get("custom_key") == std::optional<std::string>("5"));

    // output.value: JSON text is the answer itself unless the mime type says the value is a JSON
    // wrapper.
    s.attributes = {{"input.value", R"({"question":"q"})"}, {"output.value", R"({"answer":"a"})"}};
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->input == R"({"question":"q"})");
    CHECK(r->output == R"({"answer":"a"})");
    s.attributes["input.mime_type"] = "application/json";
    s.attributes["output.mime_type"] = "application/json";
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->input == "q");
    CHECK(r->output == "a");
    s.attributes = {{"output.value", R"([{"role":"assistant","content":"m"}])"},
                    {"output.mime_type", "text/plain"}};
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->output_messages.empty());  // text/plain: kept as text

    s.attributes = {{"gen_ai.prompt", "plain prompt"},
                    {"gen_ai.completion", R"([{"role":"assistant","content":"x"}])"}};
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->input == "plain prompt");
    CHECK(r->output_messages.size() == 1);
    CHECK(r->output == "x");
}

TEST_CASE("trace assembler: OpenLLMetry finish_reason, Traceloop entities, Langfuse attributes") {
    // OpenLLMetry (Traceloop) flattens completions: gen_ai.completion.N.finish_reason
    // (issue 16, item 18: it was missed).
    auto s = span(k_trace, "aaaaaaaaaaaaaaa1", "", true);
    s.attributes = {{"gen_ai.prompt.0.role", "user"},
                    {"gen_ai.prompt.0.content", "hi"},
                    {"gen_ai.completion.0.role", "assistant"},
                    {"gen_ai.completion.0.content", "hello"},
                    {"gen_ai.completion.0.finish_reason", "length"}};
    auto r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->finish_reason == "length");
    CHECK(r->output == "hello");
    // The GenAI attribute wins over the flattened one.
    s.attributes["gen_ai.response.finish_reasons"] = nlohmann::json::array({"stop"});
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->finish_reason == "stop");

    // Traceloop workflow/task spans carry JSON entity input/output.
    s.attributes = {{"traceloop.entity.input", R"({"inputs":{"q":"x"},"input":"what is 2+2?"})"},
                    {"traceloop.entity.output", R"({"output":"4"})"}};
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->input == "what is 2+2?");
    CHECK(r->output == "4");

    // Langfuse's own attributes: observation input/output, session and user.
    s.attributes = {{"langfuse.observation.input", "ping"},
                    {"langfuse.observation.output", "pong"},
                    {"langfuse.session.id", "lf-sess"},
                    {"langfuse.user.id", "lf-user"}};
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->input == "ping");
    CHECK(r->output == "pong");
    CHECK(r->metadata.session_id == "lf-sess");
    CHECK(r->metadata.user_id == "lf-user");
    // GenAI conventions first: gen_ai.conversation.id over session.id and Langfuse's.
    s.attributes["session.id"] = "plain";
    s.attributes["gen_ai.conversation.id"] = "conv-1";
    r = parse_trace(build_trace_json({s}, 0, AssemblerOptions{}), ParseLimits{}, k_t0);
    REQUIRE(r.ok());
    CHECK(r->metadata.session_id == "conv-1");
}

TEST_CASE("trace assembler: attributes of unexpected shapes never throw") {
    auto s = span(k_trace, "aaaaaaaaaaaaaaa1", "", true);
    const std::vector<nlohmann::json> weird = {
        nullptr,
        5,
        -1,
        1e300,
        true,
        "",
        "[",
        "{\"role\":5}",
        "[{\"role\":5,\"parts\":[{\"type\":7,\"content\":[]}]}]",
        "[{\"parts\":{\"x\":1}}]",
        "[1,2]",
        nlohmann::json::array({nlohmann::json::object()}),
        nlohmann::json::parse(R"({"a":[{"b":null}]})"),
        std::string(20000, 'x'),
        std::string(40, '[') + std::string(40, ']')};
    const char* keys[] = {"gen_ai.input.messages",
                          "gen_ai.output.messages",
                          "gen_ai.prompt",
                          "gen_ai.completion",
                          "input.value",
                          "output.value",
                          "gen_ai.response.finish_reasons",
                          "gen_ai.usage.input_tokens",
                          "llm.token_count.prompt",
                          "llm.input_messages.0.message.content",
                          "llm.input_messages.x.message.role",
                          "retrieval.documents.0.document.content",
                          "assay.tags",
                          "assay.tenant",
                          "gen_ai.request.model",
                          "llm.cost.total",
                          "tag.tags",
                          "gen_ai.system_instructions",
                          "openinference.span.kind"};
    for (const auto& v : weird) {
        for (const char* k : keys) {
            s.attributes = {{k, v}};
            std::string text;
            CHECK_NOTHROW(text = build_trace_json({s}, 0, AssemblerOptions{}));
            auto r = parse_trace(text, ParseLimits{}, k_t0);
            CHECK_MESSAGE(r.ok(), std::string(k + (": " + r.status().message())));
        }
    }
}

TEST_CASE("trace assembler: mutated payloads never throw") {
    std::string base;
    {
        std::ifstream in(std::string(ASSAY_SOURCE_DIR) + "/tests/data/otlp/agent_part2.json",
                         std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        base = ss.str();
    }
    uint64_t x = 88172645463325252ULL;  // xorshift: deterministic
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    const char k_bytes[] = {'"', '{', '}', '[', ']', ',', ':', '0', 'a', '\\', '\xff', ' '};
    size_t parsed = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string m = base;
        const int edits = 1 + static_cast<int>(next() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t pos = next() % m.size();
            switch (next() % 3) {
                case 0:
                    m[pos] = k_bytes[next() % sizeof(k_bytes)];
                    break;
                case 1:
                    m.erase(pos, 1 + next() % 8);
                    break;
                default:
                    m.resize(pos);
                    break;
            }
            if (m.empty()) {
                m = "{";
            }
        }
        Result<std::vector<OtlpSpan>> r = Status::internal("unset");
        REQUIRE_NOTHROW(r = parse_otlp_json(m));
        if (!r.ok()) {
            continue;
        }
        ++parsed;
        TraceAssembler as;
        REQUIRE_NOTHROW((void)as.add(std::move(r).value(), k_t0));
        std::vector<AssembledTrace> done;
        REQUIRE_NOTHROW(done = as.take_complete(k_t0 + 1000000));
        for (const auto& a : done) {
            CHECK(trace_from_json(a.value, k_t0).ok());
        }
    }
    CHECK(parsed > 0);  // some mutations keep the payload valid: the assembler ran on them
}

TEST_CASE("trace assembler: a payload exported by the OpenTelemetry JS SDK 2.x") {
    // Captured from @opentelemetry/exporter-trace-otlp-http (JSON) with sdk-trace-base 2.12:
    // hex ids, string nano times, flags 257, no parentSpanId key on the root.
    TraceAssembler as;
    REQUIRE(as.add(load("js_sdk_export.json"), k_t0).ok());
    auto done = as.take_complete(k_t0 + 2000);
    REQUIRE(done.size() == 1);
    CHECK(done[0].complete);
    CHECK(done[0].span_count == 3);
    const Trace t = parse(done[0]);
    CHECK(t.trace_id == "79596f5576861b26779152f010667e22");
    CHECK(t.input == "Say hi to Bob");
    CHECK(t.output == "Hi Bob!");
    CHECK(t.metadata.feature == "js-helper");
    CHECK(t.metadata.tenant == "initech");
    CHECK(t.metadata.prompt_version == "3");
    CHECK(t.metadata.model == "gpt-4o-mini");
    CHECK(t.usage.input_tokens == 21);
    CHECK(t.finish_reason == "stop");
    CHECK_FALSE(t.error.has_value());
    const auto spans = as_json(done[0])["metadata"]["spans"];
    REQUIRE(spans.size() == 2);
    CHECK(spans[0]["error"] == "user not found");
}

TEST_CASE("trace assembler: GenAI agent spans (invoke_agent, chat, execute_tool, embeddings)") {
    // tests/data/otlp/genai_agent.json, written from the GenAI agent and
    // inference span conventions: an HTTP root, an invoke_agent span holding
    // the conversation, two chat calls (reasoning tokens), a tool call and an
    // embeddings call.
    const AssembledTrace a = assemble_one(load("genai_agent.json"));
    const Trace t = parse(a);
    const nlohmann::json v = as_json(a);
    // The agent's input and answer, not the first chat call's (which starts
    // with the system instructions) nor a tool's.
    CHECK(t.input == "Where is order 1234?");
    REQUIRE(t.input_messages.size() == 1);
    CHECK(t.output == "Order 1234 shipped on Monday; it arrives Thursday.");
    CHECK(t.metadata.session_id == "conv_5j66UpCpwteGg4YSxUnt7lPY");
    CHECK(t.metadata.model == "o4-mini-2025-04-16");  // the last chat call's
    CHECK(t.finish_reason == "stop");
    // Usage: the chat calls' sum (not the agent's total again, nor embeddings).
    CHECK(t.usage.input_tokens == 700);
    CHECK(t.usage.output_tokens == 260);
    CHECK(t.usage.cached_tokens == 256);
    CHECK(v["usage"]["reasoning_tokens"] == 160);
    const auto spans = v["metadata"]["spans"];
    REQUIRE(spans.size() == 4);  // agent, chat, tool, chat; the embeddings call is not listed
    CHECK(spans[0]["kind"] == "agent");
    CHECK(spans[0]["agent"] == "SupportAgent");
    CHECK(spans[1]["kind"] == "llm");
    CHECK(spans[1]["reasoning_tokens"] == 96);
    CHECK(spans[2]["kind"] == "tool");
    CHECK(spans[2]["tool"] == "lookup_order");
    CHECK(spans[3]["kind"] == "llm");
    CHECK(spans[3]["output_tokens"] == 140);
    CHECK_FALSE(t.error.has_value());
    // For the review timeline: each span's start from the root's, and its own
    // input and output (a tool's call arguments and result).
    CHECK(spans[0]["start_ms"] == doctest::Approx(10.0));
    CHECK(spans[2]["start_ms"] == doctest::Approx(1110.0));
    CHECK(spans[2]["duration_ms"] == doctest::Approx(190.0));
    REQUIRE(spans[2].contains("input"));
    CHECK(spans[2]["input"].get<std::string>().find("1234") != std::string::npos);
    REQUIRE(spans[2].contains("output"));
    CHECK(spans[2]["output"].dump().find("shipped") != std::string::npos);
    REQUIRE(spans[1]["input"].is_array());
    CHECK(spans[1]["input"][0]["role"] == "system");  // the system instructions first
    CHECK(spans[3]["output"].dump().find("Thursday") != std::string::npos);
    CHECK_FALSE(spans[3].contains("input"));  // the second chat call records no input
    // cut like metadata values
    {
        auto s = span(k_trace, "aaaaaaaaaaaaaaa1", "", true);
        auto c = span(k_trace, "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", true);
        c.attributes = {{"gen_ai.operation.name", "execute_tool"},
                        {"gen_ai.tool.name", "t"},
                        {"gen_ai.tool.call.result", std::string(10000, 'x')}};
        AssemblerOptions o;
        o.max_value_bytes = 100;
        const auto cut = build_trace_value({s, c}, 0, o)["metadata"]["spans"][0]["output"];
        CHECK(cut.get<std::string>().size() <= 100 + 3);  // + "…"
    }

    // OpenLLMetry and OpenInference spell reasoning tokens their own way.
    for (const char* key :
         {"gen_ai.usage.reasoning_tokens", "llm.token_count.completion_details.reasoning"}) {
        auto s = span(k_trace, "aaaaaaaaaaaaaaa1", "", true);
        s.attributes = {{"gen_ai.operation.name", "chat"},
                        {"gen_ai.completion", "ok"},
                        {"gen_ai.usage.output_tokens", 50},
                        {key, 30}};
        CHECK(build_trace_value({s}, 0, AssemblerOptions{})["usage"]["reasoning_tokens"] == 30);
    }
}

TEST_CASE("trace assembler: Langfuse trace attributes (langfuse.trace.*) on any span") {
    // tests/data/otlp/langfuse_trace.json, written from the Langfuse SDK's
    // OpenTelemetry attributes: the trace's name, user, session, tags,
    // metadata, input and output set on a child span (updateActiveTrace), a
    // generation with its model and usage details.
    const AssembledTrace a = assemble_one(load("langfuse_trace.json"));
    const Trace t = parse(a);
    const nlohmann::json v = as_json(a);
    CHECK(t.input == "Can I pay with two cards?");  // langfuse.trace.input over the root's
    CHECK(t.output == "Yes: split the payment at checkout.");
    CHECK(t.metadata.feature == "checkout-flow");  // langfuse.trace.name over service.name
    CHECK(t.metadata.user_id == "user-123");
    CHECK(t.metadata.session_id == "session-456");
    CHECK(t.metadata.environment == "staging");
    CHECK(t.metadata.tags == std::vector<std::string>{"checkout", "payment"});
    CHECK(t.metadata.get("version") == std::optional<std::string>("2.1.0"));
    CHECK(t.metadata.get("cart_size") == std::optional<std::string>("3"));
    CHECK(t.metadata.model == "gpt-4o");
    CHECK(t.usage.input_tokens == 12);
    CHECK(t.usage.output_tokens == 9);
    CHECK_FALSE(v["metadata"].contains("langfuse.trace.input"));
    const auto spans = v["metadata"]["spans"];
    REQUIRE(spans.size() == 1);  // the generation; plain spans are not listed
    CHECK(spans[0]["kind"] == "llm");

    // Without trace-level input/output: the root observation's input, the
    // generation's output; a JSON metadata object and JSON-text tags.
    auto spans_in = load("langfuse_trace.json");
    for (auto& s : spans_in) {
        s.attributes.erase("langfuse.trace.input");
        s.attributes.erase("langfuse.trace.output");
        s.attributes.erase("langfuse.trace.metadata.version");
        if (s.attributes.count("langfuse.trace.tags") != 0) {
            s.attributes["langfuse.trace.tags"] = R"(["a","b"])";
            s.attributes["langfuse.trace.metadata"] = R"({"version":"3.0","user_id":{"x":1}})";
        }
    }
    const Trace t2 = parse(assemble_one(std::move(spans_in)));
    CHECK(t2.input == R"({"cart": "c-77"})");  // kept as text, as Langfuse sent it
    CHECK(t2.output == "Yes: split the payment at checkout.");
    CHECK(t2.metadata.tags == std::vector<std::string>{"a", "b"});
    CHECK(t2.metadata.get("version") == std::optional<std::string>("3.0"));
    CHECK(t2.metadata.user_id == "user-123");  // a metadata key never overrides a known one
}

TEST_CASE("trace assembler: an OpenLLMetry (Traceloop) workflow with a tool and two chat calls") {
    // tests/data/otlp/openllmetry_workflow.json, written from OpenLLMetry's
    // conventions: a @workflow root with traceloop.entity.input/output (the
    // SDK's json.dumps of {"args", "kwargs"} and of the result), a @tool span,
    // chat spans with flattened gen_ai.prompt.N / gen_ai.completion.N.
    const AssembledTrace a = assemble_one(load("openllmetry_workflow.json"));
    const Trace t = parse(a);
    const nlohmann::json v = as_json(a);
    CHECK(t.input == "Where is order 1234?");            // the workflow's keyword argument
    CHECK(t.output == "Order 1234 shipped on Monday.");  // the JSON string, decoded
    CHECK(t.metadata.model == "o4-mini-2025-04-16");
    CHECK(t.finish_reason == "stop");  // the last chat call's, not the first's tool_calls
    CHECK(t.usage.input_tokens == 270);
    CHECK(t.usage.output_tokens == 120);
    CHECK(v["usage"]["reasoning_tokens"] == 80);
    const auto spans = v["metadata"]["spans"];
    REQUIRE(spans.size() == 3);
    CHECK(spans[0]["kind"] == "llm");
    CHECK(spans[1]["kind"] == "tool");  // traceloop.span.kind tool
    CHECK(spans[2]["kind"] == "llm");
    CHECK_FALSE(t.error.has_value());
}

TEST_CASE("trace assembler: the consumed value builds the same Trace as a copied one") {
    // The intake prints the assembled value once and moves it into the Trace
    // (build_trace(json&&), core/trace_sax.h): the same fields and text as
    // reading a copy, for every fixture.
    size_t with_spans = 0;  // traces whose metadata.spans (an array) was moved
    for (const char* name :
         {"genai_chat.json", "genai_agent.json", "openinference_rag.json", "langfuse_trace.json",
          "openllmetry_workflow.json", "js_sdk_export.json"}) {
        CAPTURE(name);
        TraceAssembler as;
        REQUIRE(as.add(load(name), k_t0).ok());
        auto done = as.take_complete(k_t0 + 600000);
        REQUIRE_FALSE(done.empty());
        for (AssembledTrace& a : done) {
            const Trace copied = parse(a);
            std::string text = a.value.dump();
            const std::string printed = text;
            Trace moved;
            moved.received_ms = k_t0;
            const Status built = build_trace(std::move(a.value), k_t0, moved);
            REQUIRE_MESSAGE(built.ok(), built.message());
            moved.raw = std::move(text);
            CHECK(moved.raw == printed);
            CHECK(moved.raw == copied.raw);
            CHECK(moved.trace_id == copied.trace_id);
            CHECK(moved.timestamp_ms == copied.timestamp_ms);
            CHECK(moved.input == copied.input);
            CHECK(moved.output == copied.output);
            REQUIRE(moved.input_messages.size() == copied.input_messages.size());
            for (size_t i = 0; i < copied.input_messages.size(); ++i) {
                CHECK(moved.input_messages[i].role == copied.input_messages[i].role);
                CHECK(moved.input_messages[i].content == copied.input_messages[i].content);
            }
            REQUIRE(moved.output_messages.size() == copied.output_messages.size());
            CHECK(moved.context == copied.context);
            CHECK(moved.reference == copied.reference);
            CHECK(moved.metadata.feature == copied.metadata.feature);
            CHECK(moved.metadata.model == copied.metadata.model);
            CHECK(moved.metadata.tags == copied.metadata.tags);
            CHECK(moved.metadata.extra == copied.metadata.extra);
            CHECK(moved.metadata.extra.dump() == copied.metadata.extra.dump());
            CHECK(moved.usage.input_tokens == copied.usage.input_tokens);
            CHECK(moved.usage.output_tokens == copied.usage.output_tokens);
            CHECK(moved.latency_ms == copied.latency_ms);
            CHECK(moved.finish_reason == copied.finish_reason);
            CHECK(moved.error.has_value() == copied.error.has_value());
            with_spans += moved.metadata.extra.contains("spans") ? 1 : 0;
        }
    }
    CHECK(with_spans >= 3);
}

TEST_CASE("trace assembler: traces taken unmapped and mapped after are those take_complete maps") {
    // The intake takes traces under its lock unmapped and maps them outside
    // it (map_assembled): the same values, flags and counts, and an expired
    // trace keeps its incomplete error.
    for (const char* name : {"genai_chat.json", "genai_agent.json", "openinference_rag.json",
                             "langfuse_trace.json", "js_sdk_export.json"}) {
        CAPTURE(name);
        for (const int64_t at : {k_t0 + 600000, k_t0 + 1}) {  // complete; not idle yet
            CAPTURE(at);
            AssemblerOptions o;
            o.max_trace_age_ms = 0;  // the second pass: every trace expired
            TraceAssembler mapped(at == k_t0 + 1 ? o : AssemblerOptions{});
            TraceAssembler later(at == k_t0 + 1 ? o : AssemblerOptions{});
            REQUIRE(mapped.add(load(name), k_t0).ok());
            REQUIRE(later.add(load(name), k_t0).ok());
            auto want = mapped.take_complete(at);
            auto got = later.take_complete_unmapped(at);
            REQUIRE_FALSE(want.empty());
            REQUIRE(got.size() == want.size());
            for (size_t i = 0; i < got.size(); ++i) {
                CHECK(got[i].value.is_null());
                CHECK(got[i].spans.size() == got[i].span_count);
                map_assembled(got[i], later.options());
                CHECK(got[i].spans.empty());
                CHECK(got[i].trace_id == want[i].trace_id);
                CHECK(got[i].complete == want[i].complete);
                CHECK(got[i].reason == want[i].reason);
                CHECK(got[i].span_count == want[i].span_count);
                CHECK(got[i].value.dump() == want[i].value.dump());
                map_assembled(got[i], later.options());  // a second call changes nothing
                CHECK(got[i].value.dump() == want[i].value.dump());
            }
            CHECK(later.open_traces() == 0);
            CHECK(later.open_spans() == 0);
        }
    }
}
