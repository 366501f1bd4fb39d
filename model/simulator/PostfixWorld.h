#pragma once
// The mail world that gen_postfix_logs and the outbreak simulator share: an organisation
// (corp.example: divisions > departments > teams, workstations, a home server per division),
// external organisations, and K cooperating Postfix 3.7 + Dovecot servers that log, as
// rsyslog on Debian 12 writes /var/log/mail.log, what happens to each message: submission,
// inbound through postscreen, relays between the servers (`queued as`), LMTP delivery,
// external delivery with deferrals and bounces (and their non-delivery notifications),
// header_checks WARN lines, NOQUEUE rejects and other noise.
//
// Deterministic: one xoshiro256** stream drives every detail of the lines, so the same calls
// give the same bytes on every platform. Only the standard library is used, so that the
// bench generator builds without Qt.
//
// Callers drive time forward: sessions start in time order, each at a t no earlier than the one
// before, with advance(t) first (anvil statistics due by then, and every line before t
// written). A session's later lines (deliveries, retries minutes on) stay queued until then.
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mt::sim::postfix {

using Usec = int64_t;  // microseconds since the Unix epoch
constexpr Usec kMs = 1000;
constexpr Usec kSec = 1000000;

// ---------------------------------------------------------------- random numbers
// xoshiro256** seeded by splitmix64: the same stream on every platform, unlike the
// distributions of <random>.
struct Rng {
  uint64_t s[4];
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& v : s) v = splitmix(x);
  }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
  }
  double uni() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  int64_t range(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool chance(double p) { return uni() < p; }
  double expo(double mean) { return -mean * std::log(1.0 - uni()); }
  double normal() {
    double u1 = 1.0 - uni(), u2 = uni();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
  template <class T, size_t N>
  const T& pick(const std::array<T, N>& v) { return v[below(N)]; }
  Usec ms(int64_t lo, int64_t hi) { return range(lo * kMs, hi * kMs); }

  // A UniformRandomBitGenerator over the same stream (for Boost's generators).
  using result_type = uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type(0); }
  result_type operator()() { return next(); }
};

// ---------------------------------------------------------------- string building
inline void put(std::string& s, std::string_view v) { s.append(v); }
inline void put(std::string& s, const std::string& v) { s.append(v); }
inline void put(std::string& s, const char* v) { s.append(v); }
inline void put(std::string& s, char c) { s.push_back(c); }
template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, char> && !std::is_same_v<I, bool>)
inline void put(std::string& s, I v) {
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, v);
  s.append(b, r.ptr);
}
template <class... A>
std::string cat(const A&... a) {
  std::string s;
  s.reserve(192);
  (put(s, a), ...);
  return s;
}

std::string hex_upper(uint64_t v, int width);
std::string hex_lower(Rng& r, int n);
std::string b64chars(Rng& r, int n);
std::string alnum(Rng& r, int n);
std::string uuid(Rng& r);
// Postfix's delay formatting: two significant digits, "0" below 0.01 s, integers from 10 s.
std::string fmt_delay(Usec d);

// ---------------------------------------------------------------- calendar
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);
// "Nov 22 09:00:01" (ctime style, day padded with a space), as anvil prints inside its text.
std::string classic_time(Usec t);

// ---------------------------------------------------------------- processes
// A pool of one kind of Postfix daemon on one server: a process serves one client at a
// time, is reused by master(8) for up to max_use clients and exits after max_idle (100 s).
struct ProcPool {
  struct P {
    int pid;
    Usec busy_until;
    int uses;
    int max_use;
  };
  std::vector<P> procs;
  int acquire(Usec t, Usec dur, Rng& r, const std::function<int()>& newpid);
  // The process's client is done at `until` (when that was not known at acquire time).
  void hold(int pid, Usec until) {
    for (auto& p : procs)
      if (p.pid == pid) p.busy_until = std::max(p.busy_until, until);
  }
};

struct Event {
  Usec t;
  uint64_t seq;
  std::string text;  // "postfix/smtpd[123]: connect from ..."
};
struct EventLater {
  bool operator()(const Event& a, const Event& b) const {
    return a.t != b.t ? a.t > b.t : a.seq > b.seq;
  }
};

// ---------------------------------------------------------------- the world
struct User {
  std::string email;
  std::string ws_host;  // ws-0123.corp.example, or "unknown"
  std::string ws_name;  // ws-0123.corp.example: the asset's name, whatever DNS says
  std::string ws_ip;
  std::string helo;
  int home;
};

// The organisation chart: teams in chart order, each with its members (indices into the
// users), the first of whom leads it.
struct Team {
  int division;  // index into World::divisions_
  std::string department, name;
  std::vector<int> members;
};
struct Division {
  std::string name;
  std::vector<int> servers;  // home servers of its mailboxes
};
struct OrgFigures {
  int divisions = 0, departments = 0, teams = 0;
  int ceo = -1;
};
struct ExtDomain {
  std::string name;
  std::string mx_host;
  std::string mx_ip;
  std::string out_host;  // the host that sends their mail to us
  std::string out_ip;
  int kind;  // 0 generic, 1 google-ish, 2 microsoft-ish
};

struct Msg {
  std::string msgid;
  std::string sender;  // empty for the null sender <>
  int64_t size;
  std::string subject;     // when header_checks WARN on Subject fires
  std::string attachment;  // when mime_header_checks WARN on Content-Disposition fires
  // When set, mime_header_checks also WARN on the attachment's "Content-Type: <this>;
  // name=..." (logged before its Content-Disposition).
  std::string content_type;
  // When set, the client gave this one address (a list at corp.example) and cleanup's
  // virtual alias expansion turned it into the recipients: delivery lines carry
  // orig_to=<list> on the server that expanded it.
  std::string list_addr;
};

struct Server {
  int idx;
  std::string name;  // mx1
  std::string fqdn;  // mx1.corp.example
  std::string ip;    // 10.0.0.1
  bool long_ids;
  int pid_next;
  int qmgr_pid, anvil_pid, postscreen_pid;
  Usec postscreen_last = 0, anvil_last = 0;
  ProcPool smtpd, submission, cleanup, smtp, lmtp, bounce, dovecot_lmtp;
  std::priority_queue<Event, std::vector<Event>, EventLater> heap;
  std::unordered_map<std::string, Usec> qid_busy_until;  // queue id -> removed time
  std::deque<std::pair<std::string, Usec>> recently_removed;
  Usec flushed_to = 0;
  Usec next_anvil = 0;
  // anvil's view since the last statistics
  std::string anvil_rate_key, anvil_count_key;
  int anvil_rate = 0, anvil_count = 0, anvil_cache = 0;
  Usec anvil_rate_at = 0, anvil_count_at = 0, anvil_cache_at = 0;
  FILE* out = nullptr;
  std::string outbuf;
  uint64_t bytes = 0, lines = 0;
  Usec stamp_sec = -1;
  char stamp[40];
  size_t stamp_len = 0;
};

struct Stats {
  uint64_t accepted = 0;        // messages accepted from a client (submission + inbound)
  uint64_t queue_ids = 0;       // queue-id lifecycles, all servers (incl. relays and NDRs)
  uint64_t relayed = 0;         // lifecycles created by relaying between our servers
  uint64_t ndrs = 0;            // non-delivery notifications
  uint64_t deferred = 0, bounced = 0, rejects = 0, qid_reuses = 0;
};

// Shared mailboxes (nshared takes the first ones) and the division that owns each: the
// mailbox lives on that division's server.
constexpr std::array<std::pair<const char*, const char*>, 8> kSharedMailboxes = {{
    {"info", "Executive"}, {"invoices", "Finance"}, {"support", "Operations"}, {"careers", "HR"},
    {"security", "IT"}, {"sales", "Sales"}, {"legal", "Legal"}, {"press", "Executive"}}};

// "greta.klein2" -> "Greta Klein".
std::string display_name(const std::string& email);

class World {
 public:
  // nusers 2400, load 1 and no shared mailboxes give the logs of gen_postfix_logs version 1.
  // load only matters to run().
  World(uint64_t seed, int nservers, bool rfc3339, Usec start, int nusers, double load, int nshared);

  // gen_postfix_logs: the bench's traffic (submissions to random users and partners at a
  // stress rate, inbound mail, noise) until about target_bytes are written or the log time
  // reaches `end`. False on an I/O error (error() says which).
  bool run(const std::string& dir, uint64_t target_bytes, Usec end);
  bool write_org(const std::string& path) const;
  const Stats& stats() const { return st_; }
  const std::vector<Server>& servers() const { return srv_; }
  const OrgFigures& org() const { return org_; }
  size_t users() const { return users_.size(); }
  size_t shared_mailboxes() const { return shared_.size(); }
  const std::string& error() const { return error_; }

  // ---- building blocks for other traffic (the outbreak simulator)
  // Opens DIR/mail1.log .. DIR/mailK.log.
  bool open_logs(const std::string& dir);
  // Anvil statistics due up to t, then every line before t written.
  void advance(Usec t);
  // Writes what is left and closes the logs.
  bool close_logs();
  // A submission from the user's workstation under their SASL identity to server s, then
  // delivery to every recipient. Returns the time of smtpd's "client=" line (the message's
  // time in the case); *qid_out gets the queue id when asked.
  Usec submit(Usec t0, const User& u, Server& s, const std::vector<std::string>& rcpts, const Msg& m,
              std::string* qid_out = nullptr);
  // A message from an external organisation through postscreen to server s, then delivery.
  Usec receive_inbound(Usec t0, const ExtDomain& d, Server& s, const std::vector<std::string>& rcpts,
                       const Msg& m);
  void noise_noqueue(Usec t0);
  void noise_postscreen(Usec t0);
  void noise_sasl(Usec t0);
  void noise_imap(Usec t0);

  std::string make_msgid_internal(const User& u);  // from a mail client drawn at random
  // From a given mail client: 0 Thunderbird, 1 Outlook over SMTP, 2 an uppercase-hex client.
  std::string make_msgid_internal(const User& u, uint64_t client);
  std::string make_msgid_external(const ExtDomain& d);
  std::string ext_address(const ExtDomain& d);
  std::vector<int> pick_users(int n);
  int home_of(const std::string& rcpt) const;
  const ExtDomain* domain_of(const std::string& address) const;

  Rng& rng() { return r_; }
  std::vector<Server>& servers_mut() { return srv_; }
  const std::vector<User>& user_list() const { return users_; }
  const std::vector<Team>& teams() const { return teams_; }
  const std::vector<Division>& divisions() const { return divisions_; }
  const std::vector<int>& team_of() const { return team_of_; }
  const std::vector<int>& manager_of() const { return manager_of_; }
  const std::vector<ExtDomain>& ext_domains() const { return ext_; }
  const std::vector<std::string>& first_names() const { return first_; }
  const std::vector<std::string>& last_names() const { return last_; }

 private:
  Rng r_;
  bool rfc3339_;
  Usec start_;
  int nusers_;
  double rate_scale_;  // sessions per second at night / 0.15, all servers
  std::vector<User> shared_;  // shared mailboxes: in the logs, not in the org chart
  std::vector<Division> divisions_;
  std::vector<Team> teams_;
  std::vector<int> team_of_, manager_of_;  // per user: index into teams_, into users_ (-1: none)
  OrgFigures org_;
  uint64_t seq_ = 0;
  uint64_t emitted_ = 0;
  uint64_t flushes_ = 0;
  Stats st_;
  std::vector<Server> srv_;
  std::vector<User> users_;
  std::vector<ExtDomain> ext_;
  std::vector<std::string> first_, last_;
  std::unordered_map<std::string, int> home_;                 // user address -> server
  std::unordered_map<std::string, const ExtDomain*> domain_;  // external domain -> data
  std::string error_;

  void build_world(int n);
  void build_org(uint64_t seed, int nshared);
  std::string ext_ip();

  // output
  void emit_line(Server& s, Usec t, std::string text);
  void write_line(Server& s, const Event& e);
  void flush(Server& s, Usec limit);
  void write_out(Server& s);

  // helpers
  int newpid(Server& s) {
    s.pid_next += static_cast<int>(r_.range(1, 40));
    if (s.pid_next > 4194000) s.pid_next = 1000 + static_cast<int>(r_.range(0, 999));
    return s.pid_next;
  }
  int acquire(Server& s, ProcPool& p, Usec t, Usec dur) {
    return p.acquire(t, dur, r_, [&] { return newpid(s); });
  }
  int postscreen(Server& s, Usec t) {
    if (s.postscreen_pid == 0 || t - s.postscreen_last > 100 * kSec) s.postscreen_pid = newpid(s);
    s.postscreen_last = t;
    return s.postscreen_pid;
  }
  void anvil_note(Server& s, std::string_view service, const std::string& ip, Usec t);
  void anvil_tick(Server& s);
  std::string alloc_qid(Server& s, Usec t);
  void release_qid(Server& s, const std::string& qid, Usec removed_at);
  void forget_qids(Usec before);
  std::string tls_in();
  std::string pick_subject();
  std::string pick_attachment();
  int64_t pick_size(bool attach);

  // the bench's message flows
  void session_submission(Usec t0);
  void session_inbound(Usec t0);

  // Lines from cleanup and qmgr for a message received over SMTP; returns qmgr's time.
  Usec cleanup_qmgr(Server& s, const std::string& qid, const Msg& m, const std::string& client,
                    const std::string& helo, const std::string& first_rcpt, int nrcpt, Usec t);
  // Delivers every recipient of a queued message and writes "removed".
  void deliver(Server& s, const std::string& qid, const Msg& m, const std::vector<std::string>& rcpts,
               Usec arrived, Usec t_active);
  // The receiving side of a relay from `from` to `to`: returns the new queue id and sets
  // t_reply to when the 250 reply to the end of DATA went back.
  std::string relay_receive(Server& from, Server& to, const Msg& m,
                            const std::vector<std::string>& rcpts, Usec t_connect, Usec& t_reply);
};

}  // namespace mt::sim::postfix
