// Send-confirmation benchmark (issue 8): how many X-Send-Confirm tokens the detector verifies
// per second. 200,000 messages from 2,000 enrolled users, each with an Ed25519 token (1% altered,
// 1% replayed, 1% missing where confirmation was due), judged by the full detector with and
// without the confirmation rule, and by the rule alone.
//
//   bench_confirm [MESSAGES]        MT_BENCH_ENFORCE=1: fail under 5,000 verifications/s (OpenSSL alone does about
// 10,000 Ed25519 verifications per second on one core of the 2-core reference machine)
#include "model/confirm/SendConfirm.h"
#include "model/detection/ConfirmRule.h"
#include "model/detection/Detector.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>
#include <cstdlib>
#include <random>

using namespace mt;

namespace {
class CountingSink : public det::EvidenceSink {
public:
    void add(det::Hit, bool) override { ++hits; }
    std::int64_t hits = 0;
};
} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const int n = argc > 1 ? std::atoi(argv[1]) : 200'000;
    const int users = 2000;
    std::mt19937_64 rng(8);
    QElapsedTimer timer;
    timer.start();

    std::vector<confirm::SigningKey> keys;
    confirm::KeyDirectory dir;
    for (int u = 0; u < users; ++u) {
        keys.push_back(confirm::SigningKey::generate(confirm::Algorithm::Ed25519));
        dir.add("user" + std::to_string(u) + "@corp.example", {confirm::Algorithm::Ed25519, keys.back().keyId(), keys.back().publicKey()});
    }
    det::DetectionInput in;
    for (int u = 0; u < users; ++u) in.addUser("user" + std::to_string(u) + "@corp.example", "Unit" + std::to_string(u % 40));
    const std::int64_t t0 = 1'764'140'000'000;
    const std::int64_t span = 8LL * 3600 * 1000;
    std::vector<std::string> lastToken(users);
    std::int64_t signedCount = 0;
    QElapsedTimer signTimer;
    std::int64_t signNs = 0;
    for (int i = 0; i < n; ++i) {
        const int u = static_cast<int>(rng() % users);
        det::MessageSpec s;
        s.id = i + 1;
        s.time = t0 + span * i / n;
        s.sender = "user" + std::to_string(u) + "@corp.example";
        s.saslUser = s.sender;
        s.messageId = std::to_string(i) + ".bench@corp.example";
        s.server = "mx" + std::to_string(u % 4);
        s.size = 4000 + static_cast<std::int64_t>(rng() % 20000);
        s.subject = "report " + std::to_string(i % 997);
        const int roll = static_cast<int>(rng() % 100);
        const int nrcpt = roll == 0 ? 12 : 1 + static_cast<int>(rng() % 3);
        for (int r = 0; r < nrcpt; ++r) s.recipients.push_back("user" + std::to_string((u + 1 + r * 7) % users) + "@corp.example");
        if (roll != 0) {
            confirm::Confirmation c;
            c.sender = s.sender;
            c.messageId = s.messageId;
            c.recipients = s.recipients;
            c.time = s.time / 1000;
            c.criteria.always = true;
            signTimer.start();
            s.confirmToken = confirm::makeToken(c, keys[static_cast<std::size_t>(u)]).toHeaderValue();
            signNs += signTimer.nsecsElapsed();
            ++signedCount;
            if (roll == 1) s.confirmToken[s.confirmToken.size() - 5] ^= 1; // altered signature (stays base64url)
            if (roll == 2 && !lastToken[static_cast<std::size_t>(u)].empty()) s.confirmToken = lastToken[static_cast<std::size_t>(u)];
            lastToken[static_cast<std::size_t>(u)] = s.confirmToken;
        }
        in.add(s);
    }
    in.finish();
    const double buildS = timer.elapsed() / 1000.0;

    det::RuleSet rules = det::RuleSet::defaults();
    rules.confirm.requireAlways = true;
    std::vector<std::string> risky = rules.type.executable;
    risky.insert(risky.end(), rules.type.script.begin(), rules.type.script.end());

    // The rule alone.
    det::ConfirmRule alone(rules.confirm, risky, dir);
    CountingSink sink;
    timer.restart();
    for (std::uint32_t i = 0; i < in.messages.size(); ++i) alone.evaluate(in, i, sink);
    const double aloneS = timer.nsecsElapsed() / 1e9;

    // The detector without and with it.
    timer.restart();
    {
        det::Detector d(rules);
        d.run(in);
    }
    const double withoutS = timer.nsecsElapsed() / 1e9;
    timer.restart();
    std::size_t flagged = 0;
    std::int64_t verified = 0;
    {
        det::Detector d(rules);
        auto rule = std::make_unique<det::ConfirmRule>(rules.confirm, risky, dir);
        det::ConfirmRule* rp = rule.get();
        d.addRule(std::move(rule));
        d.run(in);
        flagged = d.flaggedCount();
        verified = rp->signaturesChecked();
    }
    const double withS = timer.nsecsElapsed() / 1e9;

    const double perSecAlone = alone.signaturesChecked() / aloneS;
    std::printf("bench_confirm: %d messages, %d enrolled users (built in %.1f s; %.0f tokens signed per second)\n", n, users, buildS,
                signedCount / (signNs / 1e9));
    std::printf("  verdicts: valid %lld, missing %lld, bad signature %lld, replayed %lld; confirm hits %lld\n",
                static_cast<long long>(alone.count(confirm::Verdict::Valid)), static_cast<long long>(alone.count(confirm::Verdict::Missing)),
                static_cast<long long>(alone.count(confirm::Verdict::BadSignature)),
                static_cast<long long>(alone.count(confirm::Verdict::Replayed)), static_cast<long long>(sink.hits));
    std::printf("  rule alone:             %.2f s, %.0f signatures verified per second\n", aloneS, perSecAlone);
    std::printf("  detector without rule:  %.2f s\n", withoutS);
    std::printf("  detector with rule:     %.2f s (+%.2f s; %lld signatures; %zu flagged)\n", withS, withS - withoutS,
                static_cast<long long>(verified), flagged);
    if (std::getenv("MT_BENCH_ENFORCE") && perSecAlone < 5'000) {
        std::printf("FAIL: under 5,000 verifications per second\n");
        return 1;
    }
    return 0;
}
