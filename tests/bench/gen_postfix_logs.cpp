// gen_postfix_logs: writes large, realistic, deterministic Postfix 3.7 + Dovecot logs for
// several cooperating mail servers, as rsyslog on Debian 12 writes /var/log/mail.log.
//
//   gen_postfix_logs --out DIR (--bytes N | --hours H) [--servers K] [--seed S]
//                    [--stamp rfc3339|classic] [--start YYYY-MM-DD[THH:MM]] [--users N]
//                    [--load F] [--shared-mailboxes M] [--org FILE.csv]
//
// One file per server (DIR/mail1.log .. DIR/mailK.log, syslog host names mx1 .. mxK) that
// together hold about N bytes (or cover H hours of log time), plus DIR/manifest.json with
// what was generated. The same arguments always give byte-identical files.
//
// The world: one organisation (corp.example) whose users' mailboxes are spread over the K
// servers (each user has a home server), all K servers are MX hosts and submission servers.
// A message is accepted on one server (SASL submission from a workstation, or inbound from
// the internet through postscreen) and each recipient is then delivered locally by LMTP to
// Dovecot, relayed by SMTP to the recipient's home server (where the message appears again
// under a new queue id with the same Message-ID), or sent out to an external MX (sometimes
// deferred and retried minutes later, sometimes bounced with a non-delivery notification
// that is itself delivered to the sender). Around that: NOQUEUE rejects, postscreen
// rejects and pregreets, SASL brute force, IMAP logins, anvil statistics.
//
// The organisation: divisions > departments > teams (Sales/EMEA/Inside), every user in one
// team, team leads reporting to department heads, department heads to division heads,
// division heads to the CEO. A division's mailboxes live on one server where the number of
// servers allows it (several servers per division when there are more servers than
// divisions). --org writes that chart as CSV (email,unit,name,manager,workstation,server);
// the org chart is drawn from its own random stream, so --org never changes the logs. Every
// sender and internal recipient in the logs is a user of the chart, except the optional
// shared mailboxes (info@, invoices@, ...: --shared-mailboxes), which only the logs know.
//
// --users (default 2400) scales the traffic with it; --load multiplies it (1 = the bench's
// default, about 20 submissions per user in the peak hour; 0.2 is closer to an office).
// The defaults give the same logs as generator version 1 did (the bench caches on that).
//
// The world and its message flows live in model/simulator/PostfixWorld.{h,cpp} (shared with the
// outbreak simulator); they use only the standard library, so this builds without Qt.

#include "model/simulator/PostfixWorld.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

namespace {

using namespace mt::sim::postfix;

constexpr const char* kVersion = "gen_postfix_logs 1";  // bump when the same arguments give other logs

uint64_t parse_bytes(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || v < 0) return 0;
  std::string suf(end);
  if (suf.empty()) return static_cast<uint64_t>(v);
  switch (suf[0]) {
    case 'k': case 'K': v *= 1024; break;
    case 'm': case 'M': v *= 1024.0 * 1024; break;
    case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
    default: return 0;
  }
  return static_cast<uint64_t>(v);
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: gen_postfix_logs --out DIR (--bytes N[K|M|G] | --hours H) [--servers K (4)] [--seed S (1)]\n"
               "                        [--stamp rfc3339|classic (rfc3339)] [--start YYYY-MM-DD[THH:MM] (2026-11-22)]\n"
               "                        [--users N (2400)] [--load F (1)] [--shared-mailboxes M (0, at most 8)]\n"
               "                        [--org FILE.csv]\n"
               "       gen_postfix_logs --version\n"
               "Writes DIR/mail1.log .. DIR/mailK.log (about N bytes in all, or H hours of log time from\n"
               "--start; with both, whichever comes first) and DIR/manifest.json. --users is the size of\n"
               "the organisation (the traffic grows with it), --load multiplies the traffic (1: about 20\n"
               "submissions per user in the peak hour), --shared-mailboxes adds mailboxes such as info@\n"
               "and invoices@ that receive mail but are nobody's, --org writes the organisation chart\n"
               "(email,unit,name,manager,workstation,server), which does not change the logs.\n");
  std::exit(rc);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, org;
  uint64_t bytes = 0;
  double hours = 0;
  int servers = 4;
  uint64_t seed = 1;
  bool rfc3339 = true;
  std::string start = "2026-11-22";
  int users = 2400;
  double load = 1.0;
  int shared = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    auto num = [&]() -> double {
      const char* v = val();
      char* end = nullptr;
      double x = std::strtod(v, &end);
      if (end == v || *end != '\0' || !std::isfinite(x)) usage(2);
      return x;
    };
    if (a == "--out") out = val();
    else if (a == "--bytes") bytes = parse_bytes(val());
    else if (a == "--hours") hours = num();
    else if (a == "--servers") servers = std::atoi(val());
    else if (a == "--seed") seed = std::strtoull(val(), nullptr, 10);
    else if (a == "--stamp") {
      std::string_view v = val();
      if (v == "rfc3339") rfc3339 = true;
      else if (v == "classic") rfc3339 = false;
      else usage(2);
    } else if (a == "--start") start = val();
    else if (a == "--users") users = std::atoi(val());
    else if (a == "--load") load = num();
    else if (a == "--shared-mailboxes") shared = std::atoi(val());
    else if (a == "--org") org = val();
    else if (a == "--version") {
      std::printf("%s\n", kVersion);
      return 0;
    } else if (a == "--help" || a == "-h") usage(0);
    else usage(2);
  }
  if (out.empty() || (bytes == 0 && hours <= 0) || servers < 1 || servers > 250) usage(2);
  if (users < 10 || users > 1000000 || load <= 0 || load > 1000 || shared < 0 ||
      shared > static_cast<int>(kSharedMailboxes.size()) || hours < 0 || hours > 24.0 * 3650)
    usage(2);
  int y = 0;
  unsigned mo = 0, d = 0, hh = 0, mm = 0;
  int used = 0;
  if (std::sscanf(start.c_str(), "%d-%u-%u%n", &y, &mo, &d, &used) != 3) usage(2);
  if (start[static_cast<size_t>(used)] == 'T') {
    int more = 0;
    if (std::sscanf(start.c_str() + used, "T%u:%u%n", &hh, &mm, &more) != 2) usage(2);
    used += more;
  }
  if (static_cast<size_t>(used) != start.size() || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
      d > 31 || hh > 23 || mm > 59)
    usage(2);
  Usec t0 = (days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60) * kSec;
  Usec end = hours > 0 ? t0 + static_cast<Usec>(hours * 3600.0 * 1e6) : std::numeric_limits<Usec>::max();

  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) {
    std::fprintf(stderr, "gen_postfix_logs: %s: %s\n", out.c_str(), ec.message().c_str());
    return 1;
  }
  auto wall0 = std::chrono::steady_clock::now();
  World g(seed, servers, rfc3339, t0, users, load, shared);
  if (!g.run(out, bytes ? bytes : std::numeric_limits<uint64_t>::max(), end)) {
    std::fprintf(stderr, "gen_postfix_logs: %s\n", g.error().c_str());
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (!org.empty() && !g.write_org(org)) {
    std::perror(org.c_str());
    return 1;
  }

  uint64_t total = 0, lines = 0;
  for (const auto& s : g.servers()) {
    total += s.bytes;
    lines += s.lines;
  }
  const Stats& st = g.stats();
  const OrgFigures& of = g.org();
  std::string manifest = cat(
      "{\"generator\": \"", kVersion, "\", \"seed\": ", seed, ", \"servers\": ", servers,
      ", \"stamp\": \"", rfc3339 ? "rfc3339" : "classic", "\", \"start\": \"", start,
      "\", \"users\": ", g.users(), ", \"shared_mailboxes\": ", g.shared_mailboxes(),
      ", \"org_units\": {\"divisions\": ", of.divisions, ", \"departments\": ", of.departments,
      ", \"teams\": ", of.teams, "}, \"bytes\": ", total,
      ", \"lines\": ", lines, ", \"accepted_messages\": ", st.accepted,
      ", \"queue_ids\": ", st.queue_ids, ", \"relayed\": ", st.relayed, ", \"ndrs\": ", st.ndrs,
      ", \"deferred_hops\": ", st.deferred, ", \"bounced_rcpts\": ", st.bounced,
      ", \"rejects\": ", st.rejects, ", \"queue_id_reuses\": ", st.qid_reuses, ", \"files\": [");
  for (const auto& s : g.servers())
    manifest += cat(s.idx ? ", " : "", "{\"file\": \"mail", s.idx + 1, ".log\", \"host\": \"", s.name,
                    "\", \"bytes\": ", s.bytes, ", \"lines\": ", s.lines, "}");
  manifest += "]}\n";
  std::string mpath = cat(out, "/manifest.json");
  if (FILE* f = std::fopen(mpath.c_str(), "wb")) {
    std::fwrite(manifest.data(), 1, manifest.size(), f);
    std::fclose(f);
  }
  std::fprintf(stderr, "gen_postfix_logs: %.1f MB in %.2f s (%.0f MB/s), %llu lines, %llu messages\n",
               static_cast<double>(total) / 1e6, secs, static_cast<double>(total) / 1e6 / secs,
               static_cast<unsigned long long>(lines), static_cast<unsigned long long>(st.accepted));
  std::fputs(manifest.c_str(), stdout);
  return 0;
}
