#include "store/judge_claimant.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <random>

namespace assay {

namespace {

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') {
        return "unknown";
    }
    return buf;
}

}  // namespace

std::string make_judge_claimant() {
    std::random_device rd;
    const unsigned long long nonce = (static_cast<unsigned long long>(rd()) << 32) ^ rd();
    char tail[64];
    std::snprintf(tail, sizeof(tail), ":%ld:%016llx", static_cast<long>(getpid()), nonce);
    return host_name() + tail;
}

bool judge_claimant_dead_here(const std::string& claimant) {
    const std::string host = host_name() + ":";
    if (claimant.size() <= host.size() || claimant.compare(0, host.size(), host) != 0) {
        return false;
    }
    const size_t end = claimant.find(':', host.size());
    if (end == std::string::npos || end == host.size() || end - host.size() > 10) {
        return false;
    }
    long pid = 0;
    for (size_t i = host.size(); i < end; ++i) {
        const char c = claimant[i];
        if (c < '0' || c > '9') {
            return false;
        }
        pid = pid * 10 + (c - '0');
    }
    if (pid <= 0 || pid > 0x7fffffffL) {
        return false;
    }
    return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

std::string judge_lease_lost(const JudgeOutcome& o, bool queued, const std::string& holder) {
    const std::string now = !queued          ? "another worker already finished it"
                            : holder.empty() ? "it was released by another worker"
                                             : "it is claimed by '" + holder + "'";
    return std::string("lease lost: the judge task of trace '" + o.trace_id + "' for scorer '" +
                       o.scorer + "' version '" + o.scorer_version +
                       "' is no longer this worker's (" + now + "); its result is dropped");
}

}  // namespace assay
