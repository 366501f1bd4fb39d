// The mail world shared by gen_postfix_logs and the outbreak simulator (see PostfixWorld.h).
// Moved from tests/bench/gen_postfix_logs.cpp (version 1), whose logs it reproduces byte for
// byte.
#include "PostfixWorld.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace mt::sim::postfix {

namespace {
constexpr const char* kMon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

// ---------------------------------------------------------------- string building
std::string hex_upper(uint64_t v, int width) {
  static const char* d = "0123456789ABCDEF";
  std::string s(static_cast<size_t>(width), '0');
  for (int i = width - 1; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = d[v & 15];
  return s;
}
std::string hex_lower(Rng& r, int n) {
  static const char* d = "0123456789abcdef";
  std::string s(static_cast<size_t>(n), '0');
  for (auto& c : s) c = d[r.below(16)];
  return s;
}
std::string b64chars(Rng& r, int n) {
  static const char* d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s(static_cast<size_t>(n), 'A');
  for (auto& c : s) c = d[r.below(64)];
  return s;
}
std::string alnum(Rng& r, int n) {
  static const char* d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(static_cast<size_t>(n), 'A');
  for (auto& c : s) c = d[r.below(62)];
  return s;
}
std::string uuid(Rng& r) {
  return cat(hex_lower(r, 8), '-', hex_lower(r, 4), '-', hex_lower(r, 4), '-', hex_lower(r, 4),
             '-', hex_lower(r, 12));
}

// Postfix's delay formatting: two significant digits, "0" below 0.01 s, integers from 10 s.
std::string fmt_delay(Usec d) {
  double x = static_cast<double>(d) / 1e6;
  char b[32];
  if (x < 0.005) return "0";
  if (x >= 9.95) {
    std::snprintf(b, sizeof b, "%.0f", x);
  } else if (x >= 0.995) {
    std::snprintf(b, sizeof b, "%.1f", x);
  } else {
    std::snprintf(b, sizeof b, "%.2f", x);
  }
  std::string s(b);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// ---------------------------------------------------------------- calendar
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}
// "Nov 22 09:00:01" (ctime style, day padded with a space), as anvil prints inside its text.
std::string classic_time(Usec t) {
  int64_t secs = t / kSec;
  int64_t days = secs / 86400, sod = secs % 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char b[32];
  std::snprintf(b, sizeof b, "%s %2u %02d:%02d:%02d", kMon[m - 1], d, static_cast<int>(sod / 3600),
                static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  return b;
}

// ---------------------------------------------------------------- processes
int ProcPool::acquire(Usec t, Usec dur, Rng& r, const std::function<int()>& newpid) {
  for (auto& p : procs) {
    if (p.busy_until > t) continue;
    if (t - p.busy_until > 100 * kSec || p.uses >= p.max_use) {  // that one has exited
      p.pid = newpid();
      p.uses = 0;
      p.max_use = static_cast<int>(r.range(60, 100));
    }
    p.busy_until = t + dur;
    ++p.uses;
    return p.pid;
  }
  procs.push_back({newpid(), t + dur, 1, static_cast<int>(r.range(60, 100))});
  return procs.back().pid;
}

// ---------------------------------------------------------------- world building
World::World(uint64_t seed, int nservers, bool rfc3339, Usec start, int nusers, double load, int nshared)
    : r_(seed), rfc3339_(rfc3339), start_(start), nusers_(nusers),
      rate_scale_(24.0 * load * nusers / 2400.0) {
  build_world(nservers);
  build_org(seed, nshared);
}

void World::build_world(int n) {
  first_ = {"anna",    "ben",     "clara",  "david",  "elena",   "felix",   "greta",  "hannah",
            "ivan",    "julia",   "karl",   "lena",   "marco",   "nina",    "oscar",  "paula",
            "quentin", "rosa",    "simon",  "tanja",  "ulrich",  "vera",    "walter", "xenia",
            "yusuf",   "zoe",     "amir",   "bianca", "chen",    "dana",    "emil",   "fatima",
            "georg",   "helga",   "ines",   "jonas",  "kemal",   "laura",   "mehmet", "nora",
            "olga",    "peter",   "rania",  "sven",   "tobias",  "ute",     "viktor", "wiebke",
            "aylin",   "bernd",   "carla",  "dirk",   "eva",     "frank",   "gisela", "henrik",
            "ingrid",  "jan",     "katrin", "lukas",  "maria",   "niklas",  "petra",  "ralf"};
  last_ = {"schmidt", "mueller", "weber",  "wagner",  "becker",  "hoffmann", "schulz",  "koch",
           "richter", "klein",   "wolf",   "neumann", "schwarz", "braun",    "zimmer",  "krueger",
           "hartmann", "lange",  "werner", "krause",  "meier",   "lehmann",  "schmitt", "huber",
           "kaiser",  "fuchs",   "peters", "lang",    "scholz",  "moeller",  "weiss",   "jung",
           "hahn",    "vogel",   "friedrich", "keller", "guenther", "frank",  "berger",  "winkler",
           "roth",    "beck",    "lorenz", "baumann", "franke",  "albrecht", "ludwig",  "simon",
           "boehm",   "winter",  "kraus",  "martin",  "schumacher", "vogt",  "stein",   "jaeger",
           "otto",    "sommer",  "gross",  "seidel",  "heinrich", "brandt",  "haas",    "ozturk"};

  srv_.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Server& s = srv_[static_cast<size_t>(i)];
    s.idx = i;
    s.name = cat("mx", i + 1);
    s.fqdn = cat(s.name, ".corp.example");
    s.ip = cat("10.0.0.", i + 1);
    s.long_ids = (n >= 2 && i == n - 1);  // enable_long_queue_ids on one server
    s.pid_next = static_cast<int>(r_.range(20000, 900000));
    s.qmgr_pid = static_cast<int>(r_.range(700, 2500));
    s.anvil_pid = 0;
    s.postscreen_pid = 0;
    s.next_anvil = start_ + r_.ms(60000, 600000);
  }

  // Users: first.last@corp.example, each with a workstation and a home (mailbox) server.
  std::unordered_map<std::string, int> seen;
  for (int i = 0; i < nusers_; ++i) {
    std::string local = cat(r_.pick(first_), '.', r_.pick(last_));
    int k = seen[local]++;
    if (k > 0) local = cat(local, k + 1);
    User u;
    u.email = cat(local, "@corp.example");
    int ws = i;
    u.ws_ip = cat("10.", 20 + ws / 60000, '.', ws / 250 % 240, '.', ws % 250 + 2);
    std::string wsname = cat("ws-", ws < 1000 ? (ws < 100 ? (ws < 10 ? "000" : "00") : "0") : "", ws);
    u.ws_name = cat(wsname, ".corp.example");
    if (r_.chance(0.8)) {
      u.ws_host = cat(wsname, ".corp.example");
    } else {
      u.ws_host = "unknown";
    }
    // Outlook greets with the NetBIOS name, Thunderbird with an address literal.
    if (r_.chance(0.55)) {
      u.helo = wsname;
      std::transform(u.helo.begin(), u.helo.end(), u.helo.begin(), [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      });
    } else {
      u.helo = cat('[', u.ws_ip, ']');
    }
    u.home = static_cast<int>(r_.below(static_cast<uint64_t>(n)));
    users_.push_back(std::move(u));
  }

  // External organisations (RFC 2606 names only).
  const std::vector<std::string> a = {"north", "blue",   "acme",   "summit", "harbor", "pioneer",
                                      "alpine", "river", "granite", "silver", "orbit",  "cedar",
                                      "delta", "maple",  "lumen",  "vertex", "nordic", "atlas",
                                      "coastal", "prime", "urban",  "golden", "swift",  "iron"};
  const std::vector<std::string> b = {"logistics", "bank",    "legal",   "media",  "systems",
                                      "health",    "partners", "freight", "energy", "consult",
                                      "supply",    "insurance", "labs",   "retail", "capital",
                                      "travel",    "print",   "foods",   "steel",  "software"};
  const std::vector<std::string> tld = {".example", ".example.com", ".example.net", ".example.org"};
  std::unordered_map<std::string, int> dseen;
  for (int i = 0; i < 600; ++i) {
    std::string name = cat(r_.pick(a), '-', r_.pick(b), r_.pick(tld));
    if (dseen[name]++) continue;
    ExtDomain d;
    d.name = name;
    d.kind = r_.chance(0.2) ? 1 : (r_.chance(0.3) ? 2 : 0);
    if (d.kind == 2) {
      std::string dashed = name;
      std::replace(dashed.begin(), dashed.end(), '.', '-');
      d.mx_host = cat(dashed, ".mail.protection.outlook.example");
      d.out_host = cat("mail-", alnum(r_, 6), ".outbound.protection.outlook.example");
    } else if (d.kind == 1) {
      d.mx_host = cat("aspmx.l.mailhost.example");
      d.out_host = cat("mail-", alnum(r_, 4), "-f", r_.range(41, 199), ".mailhost.example");
    } else {
      d.mx_host = cat(r_.chance(0.5) ? "mx." : "mail.", name);
      d.out_host = r_.chance(0.85) ? cat("mail", r_.range(1, 4), '.', name) : std::string("unknown");
    }
    d.mx_ip = ext_ip();
    d.out_ip = ext_ip();
    ext_.push_back(std::move(d));
  }
  for (const auto& u : users_) home_.emplace(u.email, u.home);
  for (const auto& d : ext_) domain_.emplace(d.name, &d);
}

// ---------------------------------------------------------------- the organisation
namespace {

struct DeptDef {
  const char* name;
  std::vector<const char*> teams;  // most important first
};
struct DivDef {
  const char* name;
  double weight;  // share of the staff
  std::vector<DeptDef> depts;  // most important first; the first one's head heads the division
};

const std::vector<DivDef>& org_catalogue() {
  // The Executive division comes first: its head is the CEO.
  static const std::vector<DivDef> c = {
      {"Executive", 3, {{"Office of the CEO", {"Executive Board", "Executive Assistants"}},
                        {"Strategy", {"Corporate Development", "Business Intelligence"}},
                        {"Communications", {"Press Office", "Internal Communications"}}}},
      {"Sales", 22, {{"EMEA", {"Inside", "Field", "Key Accounts", "Channel Partners"}},
                     {"Americas", {"Inside", "Field", "Key Accounts"}},
                     {"APAC", {"Inside", "Field"}},
                     {"Sales Operations", {"Deal Desk", "Sales Enablement", "CRM Administration"}}}},
      {"Marketing", 7, {{"Demand Generation", {"Campaigns", "Events", "Web"}},
                        {"Product Marketing", {"Messaging", "Launches"}},
                        {"Brand", {"Design", "Content"}}}},
      {"Engineering", 24, {{"Product Development", {"Web Client", "Desktop Client", "Mobile", "API"}},
                           {"Platform", {"Core Services", "Storage", "Networking"}},
                           {"Infrastructure", {"Cloud Operations", "Site Reliability", "Build and Release"}},
                           {"Quality Assurance", {"Test Automation", "Release Testing"}}}},
      {"Finance", 8, {{"Accounting", {"Accounts Payable", "Accounts Receivable", "General Ledger"}},
                      {"Controlling", {"Budgeting", "Reporting"}},
                      {"Treasury", {"Payments", "Cash Management"}},
                      {"Tax", {"Corporate Tax"}}}},
      {"Operations", 14, {{"Customer Support", {"First Level", "Second Level", "Customer Success"}},
                          {"Procurement", {"Purchasing", "Vendor Management"}},
                          {"Logistics", {"Warehouse", "Shipping"}},
                          {"Facilities", {"Office Services", "Reception"}}}},
      {"HR", 5, {{"People Operations", {"HR Services", "Payroll"}},
                 {"Talent Acquisition", {"Recruiting", "Onboarding"}},
                 {"Learning and Development", {"Training"}}}},
      {"Legal", 3, {{"Corporate Legal", {"Contracts", "Compliance"}},
                    {"Data Protection", {"Privacy Office"}},
                    {"Intellectual Property", {"Patents"}}}},
      {"IT", 6, {{"IT Services", {"Service Desk", "Workplace"}},
                 {"Information Security", {"Security Operations", "Identity and Access"}},
                 {"Business Applications", {"ERP", "Collaboration"}}}},
  };
  return c;
}

// Splits `total` in proportion to the weights (largest remainder; ties to the first).
std::vector<int> apportion(int total, const std::vector<double>& w) {
  std::vector<int> n(w.size(), 0);
  double sum = 0;
  for (double x : w) sum += x;
  if (w.empty() || total <= 0 || sum <= 0) return n;
  std::vector<std::pair<double, size_t>> rest;
  int given = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    double exact = total * w[i] / sum;
    n[i] = static_cast<int>(exact);
    given += n[i];
    rest.emplace_back(exact - n[i], i);
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < total; ++k, ++given) ++n[rest[k % rest.size()].second];
  return n;
}

}  // namespace

void World::build_org(uint64_t seed, int nshared) {
  // Its own random stream: the chart never changes what the logs draw.
  Rng r(seed ^ 0x6F72672D63686172ull);
  const auto& defs = org_catalogue();
  const size_t nd = defs.size();
  const size_t ns = srv_.size();
  std::vector<double> w(nd);
  for (size_t d = 0; d < nd; ++d) w[d] = defs[d].weight * r.lognormal(1.0, 0.08);

  // Divisions onto servers, every server's mailboxes belonging to the division(s) it hosts,
  // so that a division lives on one server or on servers of its own. A division of at least
  // `theta` servers' worth of staff gets whole servers (D'Hondt for the spare ones); the
  // smaller ones share servers, the largest first onto the least loaded. Of the thresholds
  // tried, the one whose division sizes come closest to the weights wins.
  double wsum = 0;
  for (double x : w) wsum += x;
  struct Plan {
    std::vector<std::vector<size_t>> groups;  // divisions sharing servers: one, or several on one
    std::vector<int> seats;                   // servers per group
    double err = std::numeric_limits<double>::infinity();
  };
  auto make_plan = [&](double theta) {
    Plan p;
    const double k = static_cast<double>(ns);
    std::vector<size_t> big, small;
    double small_servers = 0;
    for (size_t d = 0; d < nd; ++d) {
      const double t = w[d] / wsum * k;
      if (t >= theta) {
        big.push_back(d);
      } else {
        small.push_back(d);
        small_servers += t;
      }
    }
    if (big.size() + (small.empty() ? 0 : 1) > ns) return p;
    size_t bins = 0;
    if (!small.empty())
      bins = std::min({static_cast<size_t>(std::max(1L, std::lround(small_servers))), ns - big.size(), small.size()});
    size_t spare = ns - big.size() - bins;
    if (spare > 0 && big.empty()) return p;
    for (size_t d : big) {
      p.groups.push_back({d});
      p.seats.push_back(1);
    }
    std::stable_sort(small.begin(), small.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
    std::vector<double> load(bins, 0.0);
    std::vector<std::vector<size_t>> bin(bins);
    for (size_t d : small) {
      size_t best = 0;
      for (size_t b = 1; b < bins; ++b)
        if (load[b] < load[best]) best = b;
      bin[best].push_back(d);
      load[best] += w[d];
    }
    for (auto& b : bin) {
      p.groups.push_back(std::move(b));
      p.seats.push_back(1);
    }
    for (; spare > 0; --spare) {
      size_t best = 0;
      for (size_t g = 1; g < big.size(); ++g)
        if (w[big[g]] / (p.seats[g] + 1) > w[big[best]] / (p.seats[best] + 1)) best = g;
      ++p.seats[best];
    }
    p.err = 0;
    for (size_t g = 0; g < p.groups.size(); ++g) {
      double gw = 0;
      for (size_t d : p.groups[g]) gw += w[d];
      for (size_t d : p.groups[g]) p.err += std::abs(p.seats[g] / k * w[d] / gw - w[d] / wsum);
    }
    return p;
  };
  Plan plan;
  for (double theta : {1e9, 1.5, 1.0, 0.75, 0.5, 0.0}) {
    Plan p = make_plan(theta);
    if (p.err < plan.err - 1e-9) plan = std::move(p);
  }
  // Servers in chart order: the group holding the Executive division gets mx1.
  for (auto& g : plan.groups) std::sort(g.begin(), g.end());
  std::vector<size_t> gorder(plan.groups.size());
  for (size_t g = 0; g < gorder.size(); ++g) gorder[g] = g;
  std::sort(gorder.begin(), gorder.end(), [&](size_t a, size_t b) { return plan.groups[a].front() < plan.groups[b].front(); });
  divisions_.assign(nd, Division{});
  for (size_t d = 0; d < nd; ++d) divisions_[d].name = defs[d].name;
  std::vector<std::vector<int>> on_server(ns);
  for (size_t i = 0; i < users_.size(); ++i) on_server[static_cast<size_t>(users_[i].home)].push_back(static_cast<int>(i));
  std::vector<std::vector<int>> staff(nd);
  int next_server = 0;
  for (size_t g : gorder) {
    const auto& divs = plan.groups[g];
    for (int k = 0; k < plan.seats[g]; ++k, ++next_server) {
      const auto& here = on_server[static_cast<size_t>(next_server)];
      std::vector<double> hw;
      for (size_t d : divs) hw.push_back(w[d]);
      std::vector<int> n = apportion(static_cast<int>(here.size()), hw);
      size_t next = 0;
      for (size_t j = 0; j < divs.size(); ++j) {
        divisions_[divs[j]].servers.push_back(next_server);
        for (int m = 0; m < n[j]; ++m) staff[divs[j]].push_back(here[next++]);
      }
    }
  }

  // Teams: about one per 7.5 people, taken round-robin over the departments in order of
  // importance; sizes vary; a team grown past 16 is split into numbered squads.
  team_of_.assign(users_.size(), -1);
  manager_of_.assign(users_.size(), -1);
  for (size_t d = 0; d < nd; ++d) {
    const int n = static_cast<int>(staff[d].size());
    if (n == 0) continue;
    const DivDef& def = defs[d];
    const int want = std::clamp(static_cast<int>(std::lround(n / 7.5)), 1, n);
    std::vector<std::vector<const char*>> kept(def.depts.size());
    int chosen = 0;
    for (size_t round = 0; chosen < want; ++round) {
      bool any = false;
      for (size_t k = 0; k < def.depts.size() && chosen < want; ++k) {
        if (round < def.depts[k].teams.size()) {
          kept[k].push_back(def.depts[k].teams[round]);
          ++chosen;
          any = true;
        }
      }
      if (!any) break;
    }
    const int floor_size = n >= 3 * chosen ? 3 : (n >= 2 * chosen ? 2 : 1);
    std::vector<double> tw;
    for (size_t k = 0; k < kept.size(); ++k)
      for (size_t t = 0; t < kept[k].size(); ++t) tw.push_back(r.lognormal(1.0, 0.5));
    std::vector<int> extra = apportion(n - floor_size * chosen, tw);
    size_t ti = 0, next = 0;
    for (size_t k = 0; k < kept.size(); ++k) {
      for (const char* tname : kept[k]) {
        const int size = floor_size + extra[ti++];
        const int squads = size > 16 ? (size + 10) / 11 : 1;
        for (int q = 0; q < squads; ++q) {
          Team t;
          t.division = static_cast<int>(d);
          t.department = def.depts[k].name;
          t.name = squads > 1 ? cat(tname, ' ', q + 1) : std::string(tname);
          const int m = size / squads + (q < size % squads ? 1 : 0);
          for (int j = 0; j < m; ++j) t.members.push_back(staff[d][next++]);
          teams_.push_back(std::move(t));
        }
      }
    }
  }

  // Heads: a team's first member leads it, the first team's lead heads the department, the
  // first department's head heads the division, the first division's head is the CEO. Each
  // person reports to the head of the smallest unit above them that they do not lead.
  std::unordered_map<std::string, int> dept_head;
  std::vector<int> div_head(nd, -1);
  int ceo = -1;
  for (const Team& t : teams_) {
    const int lead = t.members.front();
    std::string key = cat(t.division, '/', t.department);
    if (!dept_head.count(key)) {
      dept_head.emplace(key, lead);
      ++org_.departments;
    }
    if (div_head[static_cast<size_t>(t.division)] < 0) {
      div_head[static_cast<size_t>(t.division)] = lead;
      ++org_.divisions;
      if (ceo < 0) ceo = lead;
    }
  }
  org_.teams = static_cast<int>(teams_.size());
  org_.ceo = ceo;
  for (size_t ti = 0; ti < teams_.size(); ++ti) {
    const Team& t = teams_[ti];
    const int lead = t.members.front();
    const int dh = dept_head.at(cat(t.division, '/', t.department));
    const int vh = div_head[static_cast<size_t>(t.division)];
    for (int u : t.members) {
      team_of_[static_cast<size_t>(u)] = static_cast<int>(ti);
      int boss = -1;
      for (int cand : {lead, dh, vh, ceo})
        if (cand != u) {
          boss = cand;
          break;
        }
      manager_of_[static_cast<size_t>(u)] = boss;
    }
  }

  // Shared mailboxes, on their division's server. Their names are not first.last, so they
  // cannot clash with a person's address.
  for (int i = 0; i < nshared && i < static_cast<int>(kSharedMailboxes.size()); ++i) {
    User u;
    u.email = cat(kSharedMailboxes[static_cast<size_t>(i)].first, "@corp.example");
    u.home = 0;
    for (const auto& dv : divisions_)
      if (dv.name == kSharedMailboxes[static_cast<size_t>(i)].second) u.home = dv.servers.front();
    home_.emplace(u.email, u.home);
    shared_.push_back(std::move(u));
  }
}

std::string display_name(const std::string& email) {
  std::string local = email.substr(0, email.find('@'));
  while (!local.empty() && std::isdigit(static_cast<unsigned char>(local.back()))) local.pop_back();
  std::string out;
  bool start = true;
  for (char c : local) {
    if (c == '.') {
      out.push_back(' ');
      start = true;
      continue;
    }
    out.push_back(start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    start = false;
  }
  return out;
}

namespace {
std::string csv_cell(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

}  // namespace

bool World::write_org(const std::string& path) const {
  std::string out = "email,unit,name,manager,workstation,server\n";
  for (const Team& t : teams_) {
    std::string unit = cat(divisions_[static_cast<size_t>(t.division)].name, '/', t.department, '/', t.name);
    for (int u : t.members) {
      const User& p = users_[static_cast<size_t>(u)];
      const int boss = manager_of_[static_cast<size_t>(u)];
      out += cat(csv_cell(p.email), ',', csv_cell(unit), ',', csv_cell(display_name(p.email)), ',',
                 boss < 0 ? std::string() : users_[static_cast<size_t>(boss)].email, ',', p.ws_name, ',',
                 srv_[static_cast<size_t>(p.home)].name, '\n');
    }
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(out.data(), 1, out.size(), f) == out.size();
  return std::fclose(f) == 0 && ok;
}

std::string World::ext_ip() {
  static const int first[] = {23,  31,  37,  45,  46,  51,  52,  62,  77,  78,  80,  81,
                              82,  85,  87,  88,  91,  93,  94,  95,  104, 109, 141, 145,
                              151, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217};
  return cat(first[r_.below(std::size(first))], '.', r_.range(0, 255), '.', r_.range(0, 255), '.',
             r_.range(1, 254));
}

std::string World::ext_address(const ExtDomain& d) {
  switch (r_.below(5)) {
    case 0: return cat(r_.pick(first_), '.', r_.pick(last_), '@', d.name);
    case 1: return cat(r_.pick(first_), '@', d.name);
    case 2: return cat(r_.pick(first_)[0], '.', r_.pick(last_), '@', d.name);
    case 3: {
      static const std::vector<std::string> roles = {"info", "sales", "billing", "support",
                                                     "noreply", "accounts", "hr", "orders"};
      return cat(r_.pick(roles), '@', d.name);
    }
    default: return cat(r_.pick(last_), r_.range(1, 99), '@', d.name);
  }
}

int World::home_of(const std::string& rcpt) const {
  auto it = home_.find(rcpt);
  return it == home_.end() ? -1 : it->second;
}

const ExtDomain* World::domain_of(const std::string& address) const {
  auto it = domain_.find(address.substr(address.find('@') + 1));
  return it == domain_.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------- output
void World::emit_line(Server& s, Usec t, std::string text) {
  if (t < s.flushed_to) t = s.flushed_to;  // never write backwards in time
  emitted_ += text.size() + s.name.size() + (rfc3339_ ? 32 : 15) + 3;
  s.heap.push(Event{t, seq_++, std::move(text)});
}

void World::write_line(Server& s, const Event& e) {
  Usec sec = e.t / kSec;
  if (sec != s.stamp_sec) {
    s.stamp_sec = sec;
    int64_t days = sec / 86400, sod = sec % 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    if (rfc3339_) {
      s.stamp_len = static_cast<size_t>(std::snprintf(
          s.stamp, sizeof s.stamp, "%04lld-%02u-%02uT%02d:%02d:%02d.", static_cast<long long>(y),
          m, d, static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
          static_cast<int>(sod % 60)));
    } else {
      s.stamp_len = static_cast<size_t>(std::snprintf(
          s.stamp, sizeof s.stamp, "%s %2u %02d:%02d:%02d", kMon[m - 1], d,
          static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
          static_cast<int>(sod % 60)));
    }
  }
  std::string& o = s.outbuf;
  size_t before = o.size();
  o.append(s.stamp, s.stamp_len);
  if (rfc3339_) {
    char us[8];
    int v = static_cast<int>(e.t % kSec);
    for (int i = 5; i >= 0; --i, v /= 10) us[i] = static_cast<char>('0' + v % 10);
    o.append(us, 6);
    o.append("+00:00");
  }
  o.push_back(' ');
  o.append(s.name);
  o.push_back(' ');
  o.append(e.text);
  o.push_back('\n');
  s.bytes += o.size() - before;
  ++s.lines;
  if (o.size() >= (4u << 20)) write_out(s);
}

void World::write_out(Server& s) {
  std::string& o = s.outbuf;
  if (!o.empty() && s.out && std::fwrite(o.data(), 1, o.size(), s.out) != o.size() && error_.empty())
    error_ = cat("mail", s.idx + 1, ".log: ", std::strerror(errno));
  o.clear();
}

void World::flush(Server& s, Usec limit) {
  while (!s.heap.empty() && s.heap.top().t < limit) {
    write_line(s, s.heap.top());
    s.heap.pop();
  }
  if (limit > s.flushed_to) s.flushed_to = limit;
}

// ---------------------------------------------------------------- anvil
void World::anvil_note(Server& s, std::string_view service, const std::string& ip, Usec t) {
  // A crude model of anvil's maxima: enough to make the statistics lines vary believably.
  int rate = static_cast<int>(r_.range(1, 4));
  if (rate > s.anvil_rate || s.anvil_rate_key.empty()) {
    s.anvil_rate = rate;
    s.anvil_rate_key = cat(service, ':', ip);
    s.anvil_rate_at = t;
  }
  int count = static_cast<int>(r_.range(1, 2));
  if (count > s.anvil_count || s.anvil_count_key.empty()) {
    s.anvil_count = count;
    s.anvil_count_key = cat(service, ':', ip);
    s.anvil_count_at = t;
  }
  int cache = static_cast<int>(r_.range(1, 12));
  if (cache > s.anvil_cache) {
    s.anvil_cache = cache;
    s.anvil_cache_at = t;
  }
  if (s.anvil_pid == 0 || t - s.anvil_last > 100 * kSec) s.anvil_pid = newpid(s);
  s.anvil_last = t;
}

void World::anvil_tick(Server& s) {
  Usec t = s.next_anvil;
  s.next_anvil += 600 * kSec;  // anvil_status_update_time
  if (s.anvil_rate_key.empty()) return;
  std::string tag = cat("postfix/anvil[", s.anvil_pid, "]: statistics: ");
  emit_line(s, t, cat(tag, "max connection rate ", s.anvil_rate, "/60s for (", s.anvil_rate_key, ") at ",
                 classic_time(s.anvil_rate_at)));
  emit_line(s, t, cat(tag, "max connection count ", s.anvil_count, " for (", s.anvil_count_key, ") at ",
                 classic_time(s.anvil_count_at)));
  emit_line(s, t, cat(tag, "max cache size ", s.anvil_cache, " at ", classic_time(s.anvil_cache_at)));
  s.anvil_rate_key.clear();
  s.anvil_count_key.clear();
  s.anvil_rate = s.anvil_count = s.anvil_cache = 0;
}

// ---------------------------------------------------------------- queue ids
std::string World::alloc_qid(Server& s, Usec t) {
  ++st_.queue_ids;
  // Occasionally a queue id that was removed a while ago comes back (same inode, same
  // microsecond), as happens on busy real servers.
  if (r_.chance(0.003)) {
    size_t lim = std::min<size_t>(s.recently_removed.size(), 8);
    for (size_t i = 0; i < lim; ++i) {
      auto& [q, at] = s.recently_removed[i];
      auto it = s.qid_busy_until.find(q);
      if (at + kSec < t && (it == s.qid_busy_until.end() || it->second < t)) {
        std::string id = q;
        s.recently_removed.erase(s.recently_removed.begin() + static_cast<long>(i));
        s.qid_busy_until[id] = std::numeric_limits<Usec>::max();
        ++st_.qid_reuses;
        return id;
      }
    }
  }
  for (;;) {
    std::string id;
    Usec usec = t % kSec;
    if (!s.long_ids) {
      // Short format: 5 hex digits of the microseconds, then the queue file's inode in hex.
      id = cat(hex_upper(static_cast<uint64_t>(usec), 5), hex_upper(r_.range(0x10000, 0xFFFFF), 5));
    } else {
      // Long format: seconds (6) and microseconds (4) in base 52, 'z', inode in base 51.
      static const char* b52 = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
      char buf[32];
      int n = 0;
      uint64_t sec = static_cast<uint64_t>(t / kSec);
      char tmp[16];
      int k = 0;
      for (int i = 0; i < 6; ++i, sec /= 52) tmp[k++] = b52[sec % 52];
      while (k) buf[n++] = tmp[--k];
      uint64_t us = static_cast<uint64_t>(usec);
      for (int i = 0; i < 4; ++i, us /= 52) tmp[k++] = b52[us % 52];
      while (k) buf[n++] = tmp[--k];
      buf[n++] = 'z';
      uint64_t ino = static_cast<uint64_t>(r_.range(2000, 9000000));
      while (ino) {
        tmp[k++] = b52[ino % 51];
        ino /= 51;
      }
      while (k) buf[n++] = tmp[--k];
      id.assign(buf, static_cast<size_t>(n));
    }
    auto it = s.qid_busy_until.find(id);
    if (it != s.qid_busy_until.end() && it->second >= t) continue;
    s.qid_busy_until[id] = std::numeric_limits<Usec>::max();
    return id;
  }
}

void World::release_qid(Server& s, const std::string& qid, Usec removed_at) {
  s.qid_busy_until[qid] = removed_at;
  s.recently_removed.emplace_back(qid, removed_at);
  if (s.recently_removed.size() > 64) s.recently_removed.pop_front();
}

// ---------------------------------------------------------------- content
std::string World::tls_in() {
  switch (r_.below(4)) {
    case 0:
      return "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)";
    case 1:
      return "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 "
             "server-signature RSA-PSS (2048 bits) server-digest SHA256";
    default:
      return "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
             "server-signature RSA-PSS (2048 bits) server-digest SHA256";
  }
}

std::string World::make_msgid_internal(const User& u) { return make_msgid_internal(u, r_.below(3)); }

std::string World::make_msgid_internal(const User& u, uint64_t client) {
  std::string_view dom = "corp.example";
  switch (client) {
    case 0: return cat('<', uuid(r_), '@', dom, '>');  // Thunderbird
    case 1:
      return cat("<0", hex_lower(r_, 5), "01d", hex_lower(r_, 5), '$', hex_lower(r_, 8), '$',
                 hex_lower(r_, 8), "$@", dom, '>');  // Outlook over SMTP
    default: {
      std::string up = hex_lower(r_, 32);
      std::transform(up.begin(), up.end(), up.begin(), [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      });
      return cat('<', up, '@', u.email.substr(0, u.email.find('@')), ".", dom, '>');
    }
  }
}

std::string World::make_msgid_external(const ExtDomain& d) {
  switch (d.kind) {
    case 1: return cat("<CA", alnum(r_, 40), "@mail.mailhost.example>");
    case 2: {
      std::string p = alnum(r_, 4);
      return cat('<', alnum(r_, 20), hex_lower(r_, 16), "@PR", r_.range(1, 9), "P", p, "MB",
                 r_.range(1000, 9999), ".eurprd0", r_.range(1, 9), ".prod.outlook.example>");
    }
    default:
      if (r_.chance(0.5)) return cat('<', uuid(r_), '@', d.name, '>');
      return cat('<', hex_lower(r_, 24), '.', r_.range(100000, 999999), "@mail.", d.name, '>');
  }
}

std::string World::pick_subject() {
  static const std::vector<std::string> subj = {
      "Quarterly figures",
      "Invoice 2026-4711 overdue",
      "Urgent: wire transfer today",
      "Password expiry notice",
      "Payment confirmation",
      "Your account has been suspended",
      "RE: Invoice",
      "FW: Payment details changed",
      "Shared document: Q4 budget.xlsx",
      "Action required: verify your mailbox",
      "=?UTF-8?B?UmVjaG51bmcgZsOkbGxpZw==?=",
      "=?UTF-8?Q?Zahlungserinnerung_=E2=80=93_letzte_Mahnung?=",
      "Bank details update",
      "DocuSign: please sign the contract"};
  std::string s = r_.pick(subj);
  if (r_.chance(0.3)) s = cat(s, " #", r_.range(1000, 99999));
  return s;
}

std::string World::pick_attachment() {
  static const std::vector<std::string> stem = {"invoice_", "scan", "statement", "Q4 figures ",
                                                "contract", "remittance-advice", "order",
                                                "payroll", "document", "report"};
  static const std::vector<std::string> ext = {".pdf", ".pdf", ".pdf", ".docx", ".xlsx",
                                               ".zip", ".docm", ".html", ".iso", ".js"};
  return cat(r_.pick(stem), r_.range(1, 9999), r_.pick(ext));
}

int64_t World::pick_size(bool attach) {
  double v = attach ? r_.lognormal(260000, 1.0) : r_.lognormal(9000, 0.9);
  return std::clamp<int64_t>(static_cast<int64_t>(v), 700, 36000000);
}

std::vector<int> World::pick_users(int n) {
  n = std::min(n, static_cast<int>(users_.size()));
  std::vector<int> v;
  while (static_cast<int>(v.size()) < n) {
    int u = static_cast<int>(r_.below(users_.size()));
    if (std::find(v.begin(), v.end(), u) == v.end()) v.push_back(u);
  }
  return v;
}

// ---------------------------------------------------------------- message flows
Usec World::cleanup_qmgr(Server& s, const std::string& qid, const Msg& m,
                             const std::string& client, const std::string& helo,
                             const std::string& first_rcpt, int nrcpt, Usec t) {
  int cpid = acquire(s, s.cleanup, t, r_.ms(5, 40));
  std::string tag = cat("postfix/cleanup[", cpid, "]: ", qid, ": ");
  auto warn = [&](std::string_view what) {
    return cat(tag, "warning: header ", what, " from ", client, "; from=<", m.sender, "> to=<",
               first_rcpt, "> proto=ESMTP helo=<", helo, '>');
  };
  // header_checks run while the primary headers arrive; message-id is logged when they
  // end; mime_header_checks see the attachment's headers after that.
  if (!m.subject.empty()) {
    emit_line(s, t, warn(cat("Subject: ", m.subject)));
    t += r_.range(50, 900);
  }
  emit_line(s, t, cat(tag, "message-id=", m.msgid));
  if (!m.attachment.empty()) {
    t += r_.ms(1, 30);
    if (!m.content_type.empty()) {
      emit_line(s, t, warn(cat("Content-Type: ", m.content_type, "; name=\"", m.attachment, '"')));
      t += r_.range(50, 900);
    }
    emit_line(s, t, warn(cat("Content-Disposition: attachment; filename=\"", m.attachment, '"')));
  }
  t += r_.ms(1, 8) + m.size / 400;  // rest of DATA
  s.cleanup.hold(cpid, t);
  emit_line(s, t, cat("postfix/qmgr[", s.qmgr_pid, "]: ", qid, ": from=<", m.sender, ">, size=", m.size,
                 ", nrcpt=", nrcpt, " (queue active)"));
  return t;
}

std::string World::relay_receive(Server& from, Server& to, const Msg& m,
                                     const std::vector<std::string>& rcpts, Usec t,
                                     Usec& t_reply) {
  ++st_.relayed;
  std::string client = cat(from.fqdn, '[', from.ip, ']');
  Usec session = r_.ms(30, 200) + m.size / 500;
  int pid = acquire(to, to.smtpd, t, session + 10 * kMs);
  std::string tag = cat("postfix/smtpd[", pid, "]: ");
  emit_line(to, t, cat(tag, "connect from ", client));
  anvil_note(to, "smtpd", from.ip, t);
  t += r_.ms(3, 12);
  emit_line(to, t, cat(tag, "Anonymous TLS connection established from ", client, ": ",
                  "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
                  "server-signature RSA-PSS (2048 bits) server-digest SHA256"));
  t += r_.ms(2, 10);
  std::string qid = alloc_qid(to, t);
  emit_line(to, t, cat(tag, qid, ": client=", client));
  Usec arrived = t;
  t += r_.ms(2, 10) * static_cast<Usec>(rcpts.size());
  Msg m2 = m;
  m2.size = m.size + r_.range(600, 1400);  // Received:, DKIM-Signature, ...
  m2.list_addr.clear();                     // expanded upstream: plain recipients here
  Usec tq = cleanup_qmgr(to, qid, m2, client, from.fqdn, rcpts.front(),
                         static_cast<int>(rcpts.size()), t);
  t_reply = tq + r_.range(200, 3000);
  Usec t_disc = t_reply + r_.ms(1, 6);
  to.smtpd.hold(pid, t_disc);
  emit_line(to, t_disc, cat(tag, "disconnect from ", client, " ehlo=2 starttls=1 mail=1 rcpt=",
                       rcpts.size(), " data=1 quit=1 commands=", 6 + rcpts.size()));
  deliver(to, qid, m2, rcpts, arrived, tq + r_.ms(1, 15));
  return qid;
}

void World::deliver(Server& s, const std::string& qid, const Msg& m,
                        const std::vector<std::string>& rcpts, Usec arrived, Usec t_active) {
  Usec t_final = t_active;
  std::vector<std::string> bounced;
  std::string qmgr = cat("postfix/qmgr[", s.qmgr_pid, "]: ", qid, ": ");
  // After an expansion: "to=<member>, orig_to=<list>" (inserted before the closing '>').
  const std::string orig_to = m.list_addr.empty() ? std::string() : cat(">, orig_to=<", m.list_addr);

  // Group the recipients by next hop, in first-seen order.
  struct Hop {
    int kind;  // 0 local lmtp, 1 one of our servers, 2 external
    int server;
    const ExtDomain* dom;
    std::vector<std::string> rcpts;
  };
  std::vector<Hop> hops;
  for (const auto& rc : rcpts) {
    int home = home_of(rc);
    Hop h{2, -1, nullptr, {}};
    if (home == s.idx) {
      h.kind = 0;
    } else if (home >= 0) {
      h.kind = 1;
      h.server = home;
    } else {
      h.dom = domain_.at(rc.substr(rc.find('@') + 1));
    }
    auto it = std::find_if(hops.begin(), hops.end(), [&](const Hop& x) {
      return x.kind == h.kind && x.server == h.server && x.dom == h.dom;
    });
    if (it == hops.end()) {
      h.rcpts.push_back(rc);
      hops.push_back(std::move(h));
    } else {
      it->rcpts.push_back(rc);
    }
  }

  struct Retry {
    const ExtDomain* dom;
    std::vector<std::string> rcpts;
  };
  std::vector<Retry> retries;

  for (auto& h : hops) {
    Usec t = t_active + r_.ms(0, 25);  // qmgr hands hops to delivery agents in parallel
    Usec a = t - arrived;               // delays=a/b/c/d
    if (h.kind == 0) {
      int lpid = acquire(s, s.lmtp, t, 80 * kMs * static_cast<Usec>(h.rcpts.size()));
      int dpid = acquire(s, s.dovecot_lmtp, t, 80 * kMs * static_cast<Usec>(h.rcpts.size()));
      Usec b = r_.ms(0, 30), c = r_.ms(0, 10);
      t += b + c;
      emit_line(s, t, cat("dovecot: lmtp(", dpid, "): Connect from local"));
      for (const auto& rc : h.rcpts) {
        Usec d = r_.ms(5, 60) + m.size / 5000;
        t += d;
        std::string sess = b64chars(r_, 22);
        emit_line(s, t - r_.range(100, 900),
             cat("dovecot: lmtp(", rc, ")<", dpid, "><", sess, ">: msgid=", m.msgid,
                 ": saved mail to INBOX"));
        emit_line(s, t, cat("postfix/lmtp[", lpid, "]: ", qid, ": to=<", rc, orig_to, ">, relay=", s.fqdn,
                       "[private/dovecot-lmtp], delay=", fmt_delay(t - arrived), ", delays=",
                       fmt_delay(a), '/', fmt_delay(b), '/', fmt_delay(c), '/', fmt_delay(d),
                       ", dsn=2.0.0, status=sent (250 2.0.0 <", rc, "> ", sess, " Saved)"));
      }
      t += r_.ms(0, 2);
      s.lmtp.hold(lpid, t);
      s.dovecot_lmtp.hold(dpid, t);
      emit_line(s, t, cat("dovecot: lmtp(", dpid,
                     "): Disconnect from local: Client has quit the connection (state=READY)"));
      t_final = std::max(t_final, t);
    } else if (h.kind == 1) {
      Server& to = srv_[static_cast<size_t>(h.server)];
      Usec b = r_.ms(0, 20);
      t += b;
      Usec t_conn = t + r_.ms(0, 3);
      Usec t_reply = 0;
      int spid = acquire(s, s.smtp, t, 300 * kMs + m.size / 500);
      std::string tag = cat("postfix/smtp[", spid, "]: ");
      std::string relay = cat(to.fqdn, '[', to.ip, "]:25");
      std::string qid2 = relay_receive(s, to, m, h.rcpts, t_conn, t_reply);
      Usec c = std::min<Usec>(r_.ms(8, 25), (t_reply - t) / 2);
      emit_line(s, t + c, cat(tag, "Verified TLS connection established to ", relay, ": ",
                         "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
                         "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"));
      Usec d = std::max<Usec>(t_reply - t - c, 1000);
      s.smtp.hold(spid, t_reply + r_.ms(1, 5));
      for (const auto& rc : h.rcpts) {
        emit_line(s, t_reply, cat(tag, qid, ": to=<", rc, orig_to, ">, relay=", relay, ", delay=",
                             fmt_delay(t_reply - arrived), ", delays=", fmt_delay(a), '/',
                             fmt_delay(b), '/', fmt_delay(c), '/', fmt_delay(d),
                             ", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ", qid2, ')'));
      }
      t_final = std::max(t_final, t_reply);
    } else {
      const ExtDomain& dom = *h.dom;
      std::string relayhost = cat(dom.mx_host, '[', dom.mx_ip, ']');
      Usec b = r_.ms(0, 40);
      t += b;
      double roll = r_.uni();
      if (roll < 0.05) {
        // The MX does not answer: smtp gives up after smtp_connect_timeout (30 s).
        ++st_.deferred;
        Usec c = 30 * kSec + r_.ms(0, 40);
        int spid = acquire(s, s.smtp, t, c + 5 * kMs);
        std::string tag = cat("postfix/smtp[", spid, "]: ");
        std::string why = cat("connect to ", relayhost, ":25: Connection timed out");
        t += c;
        emit_line(s, t, cat(tag, why));
        for (const auto& rc : h.rcpts)
          emit_line(s, t, cat(tag, qid, ": to=<", rc, orig_to, ">, relay=none, delay=", fmt_delay(t - arrived),
                         ", delays=", fmt_delay(a), '/', fmt_delay(b), '/', fmt_delay(c),
                         "/0, dsn=4.4.1, status=deferred (", why, ')'));
        retries.push_back({&dom, h.rcpts});
        t_final = std::max(t_final, t);
        continue;
      }
      int spid = acquire(s, s.smtp, t, 2 * kSec + m.size / 300);
      std::string tag = cat("postfix/smtp[", spid, "]: ");
      Usec c = r_.ms(40, 700);
      emit_line(s, t + c - r_.ms(1, 30),
           cat(tag, r_.chance(0.6) ? "Trusted" : "Untrusted", " TLS connection established to ",
               relayhost, ":25: ", tls_in()));
      t += c;
      if (roll < 0.08) {
        // Greylisted: 450 at RCPT TO, retried later.
        ++st_.deferred;
        Usec d = r_.ms(20, 200);
        t += d;
        for (const auto& rc : h.rcpts)
          emit_line(s, t, cat(tag, qid, ": to=<", rc, orig_to, ">, relay=", relayhost, ":25, delay=",
                         fmt_delay(t - arrived), ", delays=", fmt_delay(a), '/', fmt_delay(b), '/',
                         fmt_delay(c), '/', fmt_delay(d), ", dsn=4.7.1, status=deferred (host ",
                         relayhost, " said: 450 4.7.1 <", rc,
                         ">: Recipient address rejected: Greylisted, see "
                         "https://postgrey.example/help/",
                         dom.name, ".html (in reply to RCPT TO command))"));
        retries.push_back({&dom, h.rcpts});
        t_final = std::max(t_final, t);
        continue;
      }
      Usec d = r_.ms(30, 400) + m.size / 2000;
      t += d;
      std::string qid_far = dom.kind == 2 ? uuid(r_) : hex_upper(r_.next() & 0xFFFFFFFFFFull, 10);
      for (const auto& rc : h.rcpts) {
        std::string head = cat(tag, qid, ": to=<", rc, orig_to, ">, relay=", relayhost, ":25, delay=",
                               fmt_delay(t - arrived), ", delays=", fmt_delay(a), '/',
                               fmt_delay(b), '/', fmt_delay(c), '/', fmt_delay(d));
        if (r_.chance(0.04)) {
          ++st_.bounced;
          static const std::vector<std::string> why = {
              "Recipient address rejected: User unknown in virtual mailbox table",
              "Recipient address rejected: User unknown in local recipient table",
              "Mailbox does not exist"};
          emit_line(s, t, cat(head, ", dsn=5.1.1, status=bounced (host ", relayhost,
                         " said: 550 5.1.1 <", rc, ">: ", r_.pick(why),
                         " (in reply to RCPT TO command))"));
          bounced.push_back(rc);
        } else if (dom.kind == 1) {
          emit_line(s, t, cat(head, ", dsn=2.0.0, status=sent (250 2.0.0 OK  ", t / kSec, ' ',
                         alnum(r_, 3), r_.range(10, 99), "si", r_.range(1000000, 9999999), '.',
                         r_.range(10, 999), " - gsmtp)"));
        } else if (dom.kind == 2) {
          emit_line(s, t, cat(head, ", dsn=2.6.0, status=sent (250 2.6.0 ", m.msgid, " [InternalId=",
                         r_.range(10000000000LL, 99999999999LL), ", Hostname=PR", r_.range(1, 9),
                         "P", alnum(r_, 4), "MB", r_.range(1000, 9999),
                         ".eurprd0", r_.range(1, 9), ".prod.outlook.example] ", m.size + 3000,
                         " bytes in 0.", r_.range(100, 999), ", ", r_.range(10, 999), '.',
                         r_.range(100, 999), " KB/sec Queued mail for delivery)"));
        } else {
          emit_line(s, t, cat(head, ", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ", qid_far, ')'));
        }
      }
      t_final = std::max(t_final, t);
    }
  }

  // Deferred hops: the message sits in the deferred queue and is retried on a later
  // queue run, all deferred hops together.
  if (!retries.empty()) {
    Usec t = t_final + 300 * kSec + r_.ms(0, 900000);
    size_t left = 0;
    for (const auto& rt : retries) left += rt.rcpts.size();
    emit_line(s, t, cat(qmgr, "from=<", m.sender, ">, size=", m.size, ", nrcpt=", left,
                   " (queue active)"));
    Usec t_act = t;
    for (const auto& rt : retries) {
      Usec tt = t_act + r_.ms(0, 20);
      Usec b = r_.ms(0, 20), c = r_.ms(40, 600), d = r_.ms(30, 300) + m.size / 2000;
      int spid = acquire(s, s.smtp, tt, b + c + d + 5 * kMs);
      std::string tag = cat("postfix/smtp[", spid, "]: ");
      std::string relayhost = cat(rt.dom->mx_host, '[', rt.dom->mx_ip, ']');
      emit_line(s, tt + b + c - r_.ms(1, 30),
           cat(tag, "Trusted TLS connection established to ", relayhost, ":25: ", tls_in()));
      tt += b + c + d;
      for (const auto& rc : rt.rcpts)
        emit_line(s, tt, cat(tag, qid, ": to=<", rc, orig_to, ">, relay=", relayhost, ":25, delay=",
                        fmt_delay(tt - arrived), ", delays=", fmt_delay(t_act - arrived), '/',
                        fmt_delay(b), '/', fmt_delay(c), '/', fmt_delay(d),
                        ", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ",
                        hex_upper(r_.next() & 0xFFFFFFFFFFull, 10), ')'));
      t_final = std::max(t_final, tt);
    }
  }

  Usec t_rm = t_final + r_.range(100, 3000);
  if (!bounced.empty() && !m.sender.empty()) {
    // bounce(8) has cleanup(8) queue a non-delivery notification for the sender.
    ++st_.ndrs;
    Usec t = t_final + r_.ms(1, 5);
    std::string nq = alloc_qid(s, t);
    int cpid = acquire(s, s.cleanup, t, 5 * kMs);
    int bpid = acquire(s, s.bounce, t, 10 * kMs);
    int64_t secs = t / kSec;
    int64_t y;
    unsigned mo, d;
    civil_from_days(secs / 86400, y, mo, d);
    char ts[32];
    std::snprintf(ts, sizeof ts, "%04lld%02u%02u%02d%02d%02d", static_cast<long long>(y), mo, d,
                  static_cast<int>(secs % 86400 / 3600), static_cast<int>(secs % 3600 / 60),
                  static_cast<int>(secs % 60));
    Msg ndr;
    ndr.msgid = cat('<', ts, '.', nq, '@', s.fqdn, '>');
    ndr.size = 2600 + std::min<int64_t>(m.size, 40000) / 10 + r_.range(0, 600);
    emit_line(s, t, cat("postfix/cleanup[", cpid, "]: ", nq, ": message-id=", ndr.msgid));
    t += r_.range(300, 2000);
    emit_line(s, t, cat("postfix/bounce[", bpid, "]: ", qid, ": sender non-delivery notification: ", nq));
    t += r_.range(300, 2000);
    emit_line(s, t, cat("postfix/qmgr[", s.qmgr_pid, "]: ", nq, ": from=<>, size=", ndr.size,
                   ", nrcpt=1 (queue active)"));
    Usec t_ndr = t;
    t_rm = t + r_.range(100, 2000);
    emit_line(s, t_rm, cat(qmgr, "removed"));
    release_qid(s, qid, t_rm);
    deliver(s, nq, ndr, {m.sender}, t_ndr - r_.ms(2, 6), t_rm + r_.range(100, 2000));
    return;
  }
  emit_line(s, t_rm, cat(qmgr, "removed"));
  release_qid(s, qid, t_rm);
}

void World::session_submission(Usec t0) {
  const User& u = users_[r_.below(users_.size())];
  // Users submit to their home server mostly, or to any (round-robin DNS for smtp.corp.example).
  Server& s = r_.chance(0.7) ? srv_[static_cast<size_t>(u.home)]
                             : srv_[r_.below(srv_.size())];
  int nr = 1;
  double roll = r_.uni();
  if (roll > 0.70) nr = static_cast<int>(r_.range(2, 3));
  if (roll > 0.90) nr = static_cast<int>(r_.range(4, 10));
  if (roll > 0.99) nr = static_cast<int>(r_.range(11, 40));
  std::vector<std::string> rcpts;
  bool ext_to_one = r_.chance(0.45);
  const ExtDomain* partner = &ext_[r_.below(ext_.size())];
  for (int i = 0; i < nr; ++i) {
    if (ext_to_one && r_.chance(0.8)) {
      rcpts.push_back(ext_address(*partner));
    } else if (r_.chance(0.75)) {
      if (!shared_.empty() && r_.chance(0.04))
        rcpts.push_back(r_.pick(shared_).email);
      else
        rcpts.push_back(users_[r_.below(users_.size())].email);
    } else {
      rcpts.push_back(ext_address(ext_[r_.below(ext_.size())]));
    }
  }
  for (size_t i = 1; i < rcpts.size();) {  // drop repeats, keep the order typed
    if (std::find(rcpts.begin(), rcpts.begin() + static_cast<long>(i), rcpts[i]) !=
        rcpts.begin() + static_cast<long>(i))
      rcpts.erase(rcpts.begin() + static_cast<long>(i));
    else
      ++i;
  }
  Msg m;
  m.sender = u.email;
  m.msgid = make_msgid_internal(u);
  if (r_.chance(0.04)) m.subject = pick_subject();
  bool attach = r_.chance(0.10);
  if (attach) m.attachment = pick_attachment();
  m.size = pick_size(attach);
  submit(t0, u, s, rcpts, m);
}

Usec World::submit(Usec t0, const User& u, Server& s, const std::vector<std::string>& rcpts, const Msg& m,
                   std::string* qid_out) {
  // What the client said: the recipients, or the one list address that cleanup expands.
  const size_t nsmtp = m.list_addr.empty() ? rcpts.size() : 1;
  const std::string& first_rcpt = m.list_addr.empty() ? rcpts.front() : m.list_addr;
  bool port587 = r_.chance(0.85);
  std::string client = cat(u.ws_host, '[', u.ws_ip, ']');
  Usec t = t0;
  Usec session = r_.ms(150, 900) + m.size / 800 + 30 * kMs * static_cast<Usec>(nsmtp);
  int pid = acquire(s, port587 ? s.submission : s.smtpd, t, session);
  std::string tag = cat(port587 ? "postfix/submission/smtpd[" : "postfix/smtpd[", pid, "]: ");
  emit_line(s, t, cat(tag, "connect from ", client));
  anvil_note(s, port587 ? "submission" : "smtpd", u.ws_ip, t);
  t += r_.ms(5, 40);
  emit_line(s, t, cat(tag, "Anonymous TLS connection established from ", client, ": ", tls_in()));
  t += r_.ms(30, 300);
  std::string qid = alloc_qid(s, t);
  ++st_.accepted;
  emit_line(s, t, cat(tag, qid, ": client=", client, ", sasl_method=PLAIN, sasl_username=", u.email));
  Usec arrived = t;
  t += r_.ms(5, 30) * static_cast<Usec>(nsmtp) + r_.ms(5, 60);
  Usec tq = cleanup_qmgr(s, qid, m, client, u.helo, first_rcpt, static_cast<int>(rcpts.size()), t);
  Usec t_disc = tq + r_.ms(1, 30);
  (port587 ? s.submission : s.smtpd).hold(pid, t_disc);
  emit_line(s, t_disc,
       cat(tag, "disconnect from ", client, " ehlo=2 starttls=1 auth=1 mail=1 rcpt=", nsmtp,
           " data=1 quit=1 commands=", 7 + nsmtp));
  if (qid_out) *qid_out = qid;
  deliver(s, qid, m, rcpts, arrived, tq + r_.ms(1, 20));
  return arrived;
}

void World::session_inbound(Usec t0) {
  const ExtDomain& d = ext_[r_.below(ext_.size())];
  Server& s = srv_[r_.below(srv_.size())];
  int nr = r_.chance(0.8) ? 1 : static_cast<int>(r_.range(2, 5));
  std::vector<int> us = pick_users(nr);
  std::vector<std::string> rcpts;
  for (int i : us) rcpts.push_back(users_[static_cast<size_t>(i)].email);
  if (!shared_.empty() && r_.chance(0.15)) rcpts.front() = r_.pick(shared_).email;
  Msg m;
  m.sender = r_.chance(0.03) ? std::string() : ext_address(d);
  m.msgid = make_msgid_external(d);
  if (r_.chance(0.07)) m.subject = pick_subject();
  bool attach = r_.chance(0.14);
  if (attach) m.attachment = pick_attachment();
  m.size = pick_size(attach);
  receive_inbound(t0, d, s, rcpts, m);
}

Usec World::receive_inbound(Usec t0, const ExtDomain& d, Server& s, const std::vector<std::string>& rcpts,
                            const Msg& m) {
  const int nr = m.list_addr.empty() ? static_cast<int>(rcpts.size()) : 1;  // what the client said
  const std::string& first_rcpt = m.list_addr.empty() ? rcpts.front() : m.list_addr;
  std::string ip = d.out_ip;
  std::string client = cat(d.out_host, '[', ip, ']');
  std::string helo = d.out_host == "unknown" ? cat("mail.", d.name) : d.out_host;
  int port = static_cast<int>(r_.range(32768, 60999));
  Usec t = t0;
  int ps = postscreen(s, t);
  std::string pstag = cat("postfix/postscreen[", ps, "]: ");
  emit_line(s, t, cat(pstag, "CONNECT from [", ip, "]:", port, " to [", s.ip, "]:25"));
  if (r_.chance(0.1)) {
    t += 6 * kSec + r_.ms(0, 50);  // postscreen_greet_wait for a new client
    emit_line(s, t, cat(pstag, "PASS NEW [", ip, "]:", port));
  } else {
    t += r_.ms(1, 30);
    emit_line(s, t, cat(pstag, "PASS OLD [", ip, "]:", port));
  }
  t += r_.ms(0, 3);
  bool tls = r_.chance(0.85);
  Usec session = r_.ms(150, 1500) + m.size / 1000 + 20 * kMs * static_cast<Usec>(nr);
  int pid = acquire(s, s.smtpd, t, session);
  std::string tag = cat("postfix/smtpd[", pid, "]: ");
  emit_line(s, t, cat(tag, "connect from ", client));
  anvil_note(s, "smtpd", ip, t);
  if (tls) {
    t += r_.ms(5, 80);
    emit_line(s, t, cat(tag, "Anonymous TLS connection established from ", client, ": ", tls_in()));
  }
  t += r_.ms(20, 400);
  std::string qid = alloc_qid(s, t);
  ++st_.accepted;
  emit_line(s, t, cat(tag, qid, ": client=", client));
  Usec arrived = t;
  t += r_.ms(10, 80) * static_cast<Usec>(nr) + r_.ms(10, 100);
  Usec tq = cleanup_qmgr(s, qid, m, client, helo, first_rcpt, static_cast<int>(rcpts.size()), t);
  Usec t_disc = tq + r_.ms(1, 40);
  s.smtpd.hold(pid, t_disc);
  emit_line(s, t_disc,
       cat(tag, "disconnect from ", client, tls ? " ehlo=2 starttls=1" : " ehlo=1", " mail=1 rcpt=",
           nr, " data=1 quit=1 commands=", (tls ? 6 : 4) + nr));
  deliver(s, qid, m, rcpts, arrived, tq + r_.ms(1, 20));
  return arrived;
}

void World::noise_noqueue(Usec t0) {
  ++st_.rejects;
  Server& s = srv_[r_.below(srv_.size())];
  std::string ip = ext_ip();
  bool named = r_.chance(0.3);
  std::string host = "unknown";
  if (named) {
    std::string dashed = ip;
    std::replace(dashed.begin(), dashed.end(), '.', '-');
    host = cat("host-", dashed, ".dynamic.isp.example");
  }
  std::string client = cat(host, '[', ip, ']');
  int port = static_cast<int>(r_.range(32768, 60999));
  Usec t = t0;
  int ps = postscreen(s, t);
  std::string pstag = cat("postfix/postscreen[", ps, "]: ");
  emit_line(s, t, cat(pstag, "CONNECT from [", ip, "]:", port, " to [", s.ip, "]:25"));
  t += r_.ms(1, 30);
  emit_line(s, t, cat(pstag, "PASS OLD [", ip, "]:", port));
  t += r_.ms(0, 3);
  int pid = acquire(s, s.smtpd, t, 3 * kSec);
  std::string tag = cat("postfix/smtpd[", pid, "]: ");
  if (!named && r_.chance(0.3)) {
    emit_line(s, t, cat(tag, "warning: hostname ", cat("mail", r_.range(1, 99), ".spam.example"),
                   " does not resolve to address ", ip, ": Name or service not known"));
  }
  emit_line(s, t, cat(tag, "connect from ", client));
  anvil_note(s, "smtpd", ip, t);
  t += r_.ms(100, 900);
  const ExtDomain& fd = ext_[r_.below(ext_.size())];
  std::string from = ext_address(fd);
  std::string helo = named ? host : (r_.chance(0.5) ? cat('[', ip, ']') : cat("WIN-", alnum(r_, 11)));
  std::string to;
  std::string reason;
  switch (r_.below(5)) {
    case 0:
      to = ext_address(ext_[r_.below(ext_.size())]);
      reason = cat("554 5.7.1 <", to, ">: Relay access denied");
      break;
    case 1:
      to = cat(r_.pick(first_), r_.range(1, 999), "@corp.example");
      reason = cat("550 5.1.1 <", to, ">: Recipient address rejected: User unknown in virtual mailbox table");
      break;
    case 2:
      to = users_[r_.below(users_.size())].email;
      reason = cat("450 4.7.1 Client host rejected: cannot find your reverse hostname, [", ip, ']');
      break;
    case 3:
      to = users_[r_.below(users_.size())].email;
      reason = cat("554 5.7.1 Service unavailable; Client host [", ip,
                   "] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/", ip);
      break;
    default:
      to = users_[r_.below(users_.size())].email;
      from = cat(r_.pick(last_), "@", alnum(r_, 8), ".invalid");
      reason = cat("450 4.1.8 <", from, ">: Sender address rejected: Domain not found");
      break;
  }
  emit_line(s, t, cat(tag, "NOQUEUE: reject: RCPT from ", client, ": ", reason, "; from=<", from,
                 "> to=<", to, "> proto=ESMTP helo=<", helo, '>'));
  t += r_.ms(5, 400);
  s.smtpd.hold(pid, t);
  if (r_.chance(0.3)) {
    emit_line(s, t, cat(tag, "lost connection after RCPT from ", client));
    emit_line(s, t, cat(tag, "disconnect from ", client, " ehlo=1 mail=1 rcpt=0/1 commands=2/3"));
  } else {
    emit_line(s, t, cat(tag, "disconnect from ", client, " ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"));
  }
}

void World::noise_postscreen(Usec t0) {
  ++st_.rejects;
  Server& s = srv_[r_.below(srv_.size())];
  std::string ip = ext_ip();
  int port = static_cast<int>(r_.range(32768, 60999));
  Usec t = t0;
  int ps = postscreen(s, t);
  std::string pstag = cat("postfix/postscreen[", ps, "]: ");
  std::string peer = cat('[', ip, "]:", port);
  emit_line(s, t, cat(pstag, "CONNECT from ", peer, " to [", s.ip, "]:25"));
  anvil_note(s, "smtpd", ip, t);
  switch (r_.below(4)) {
    case 0:
    case 1: {
      t += r_.ms(50, 500);
      emit_line(s, t, cat(pstag, "DNSBL rank ", r_.range(3, 8), " for ", peer));
      t += 6 * kSec + r_.ms(0, 300);
      std::string to = users_[r_.below(users_.size())].email;
      emit_line(s, t, cat(pstag, "NOQUEUE: reject: RCPT from ", peer,
                     ": 550 5.7.1 Service unavailable; client [", ip,
                     "] blocked using zen.spamhaus.org; from=<", r_.pick(last_), '@',
                     alnum(r_, 7), ".example.com>, to=<", to, ">, proto=ESMTP, helo=<",
                     cat("WIN-", alnum(r_, 11)), '>'));
      t += r_.ms(10, 300);
      break;
    }
    case 2: {
      t += r_.ms(20, 900);
      emit_line(s, t, cat(pstag, "PREGREET ", r_.range(11, 23), " after 0.", r_.range(10, 99), " from ",
                     peer, ": EHLO ", r_.chance(0.5) ? "User" : "ylmf-pc", "\\r\\n"));
      t += r_.ms(1, 10);
      break;
    }
    default: {
      Usec after = r_.ms(100, 5000);
      t += after;
      emit_line(s, t, cat(pstag, "HANGUP after ", fmt_delay(after), " from ", peer,
                     " in tests before SMTP handshake"));
      break;
    }
  }
  emit_line(s, t, cat(pstag, "DISCONNECT ", peer));
}

void World::noise_sasl(Usec t0) {
  Server& s = srv_[r_.below(srv_.size())];
  std::string ip = ext_ip();
  std::string client = cat("unknown[", ip, ']');
  Usec t = t0;
  int pid = acquire(s, s.submission, t, 4 * kSec);
  std::string tag = cat("postfix/submission/smtpd[", pid, "]: ");
  emit_line(s, t, cat(tag, "connect from ", client));
  anvil_note(s, "submission", ip, t);
  t += r_.ms(20, 200);
  emit_line(s, t, cat(tag, "Anonymous TLS connection established from ", client, ": ", tls_in()));
  t += r_.ms(1000, 3000);
  static const std::vector<std::string> guesses = {"admin", "info", "test", "postmaster", "office",
                                                   "sales", "webmaster", "contact"};
  std::string user = r_.chance(0.5) ? cat(r_.pick(guesses), "@corp.example")
                                    : users_[r_.below(users_.size())].email;
  bool login = r_.chance(0.7);
  emit_line(s, t, cat(tag, "warning: ", client, ": SASL ", login ? "LOGIN" : "PLAIN",
                 " authentication failed: ", login ? "UGFzc3dvcmQ6" : "authentication failure",
                 ", sasl_username=", user));
  t += r_.ms(1, 50);
  s.submission.hold(pid, t);
  emit_line(s, t, cat(tag, "lost connection after AUTH from ", client));
  emit_line(s, t, cat(tag, "disconnect from ", client, " ehlo=2 starttls=1 auth=0/1 commands=3/4"));
}

void World::noise_imap(Usec t0) {
  const User& u = users_[r_.below(users_.size())];
  Server& s = srv_[static_cast<size_t>(u.home)];
  std::string sess = b64chars(r_, 16);
  int mpid = newpid(s);
  Usec t = t0;
  if (r_.chance(0.06)) {
    t += r_.ms(1000, 15000);
    int n = static_cast<int>(r_.range(1, 3));
    emit_line(s, t, cat("dovecot: imap-login: Disconnected: Connection closed (auth failed, ", n,
                   " attempts in ", r_.range(2, 15), " secs): user=<", u.email,
                   ">, method=PLAIN, rip=", u.ws_ip, ", lip=", s.ip, ", TLS, session=<", sess, '>'));
    return;
  }
  emit_line(s, t, cat("dovecot: imap-login: Login: user=<", u.email, ">, method=PLAIN, rip=", u.ws_ip,
                 ", lip=", s.ip, ", mpid=", mpid, ", TLS, session=<", sess, '>'));
  t += r_.ms(2000, 1800000);
  emit_line(s, t, cat("dovecot: imap(", u.email, ")<", mpid, "><", sess, ">: Logged out in=",
                 r_.range(50, 9000), " out=", r_.range(500, 2000000), " deleted=", r_.range(0, 3),
                 " expunged=", r_.range(0, 3), " trashed=0 hdr_count=", r_.range(0, 40),
                 " hdr_bytes=", r_.range(0, 90000), " body_count=", r_.range(0, 10),
                 " body_bytes=", r_.range(0, 900000)));
}

// ---------------------------------------------------------------- main loop
bool World::open_logs(const std::string& dir) {
  for (auto& s : srv_) {
    std::string path = cat(dir, "/mail", s.idx + 1, ".log");
    s.out = std::fopen(path.c_str(), "wb");
    if (!s.out) {
      error_ = cat(path, ": ", std::strerror(errno));
      for (auto& o : srv_)
        if (o.out) {
          std::fclose(o.out);
          o.out = nullptr;
        }
      return false;
    }
    s.outbuf.reserve(5u << 20);
  }
  return true;
}

void World::forget_qids(Usec before) {
  for (auto& s : srv_)
    std::erase_if(s.qid_busy_until, [&](const auto& kv) { return kv.second < before; });
}

void World::advance(Usec t) {
  for (auto& s : srv_)
    while (s.next_anvil <= t) anvil_tick(s);
  for (auto& s : srv_) flush(s, t);
  if (++flushes_ % 65536 == 0) forget_qids(t - 60 * kSec);
}

bool World::close_logs() {
  for (auto& s : srv_) {
    flush(s, std::numeric_limits<Usec>::max());
    write_out(s);
    if (s.out && std::fclose(s.out) != 0 && error_.empty())
      error_ = cat("mail", s.idx + 1, ".log: ", std::strerror(errno));
    s.out = nullptr;
  }
  return error_.empty();
}

// ---------------------------------------------------------------- the bench's traffic
bool World::run(const std::string& dir, uint64_t target, Usec end) {
  if (!open_logs(dir)) return false;
  Usec t = start_;
  uint64_t n = 0;
  while (emitted_ < target && error_.empty()) {
    // Traffic follows the working day (UTC): quiet nights, a peak around 12:30.
    double hour = static_cast<double>((t / kSec) % 86400) / 3600.0;
    double z = (hour - 12.5) / 3.5;
    double rate = rate_scale_ * (0.15 + 1.6 * std::exp(-z * z));  // sessions per second, all servers
    t += static_cast<Usec>(r_.expo(1e6 / rate)) + 1;
    if (t >= end) break;
    for (auto& s : srv_)
      while (s.next_anvil <= t) anvil_tick(s);
    double k = r_.uni();
    if (k < 0.34) session_submission(t);
    else if (k < 0.62) session_inbound(t);
    else if (k < 0.74) noise_noqueue(t);
    else if (k < 0.82) noise_postscreen(t);
    else if (k < 0.86) noise_sasl(t);
    else noise_imap(t);
    for (auto& s : srv_) flush(s, t);
    if (++n % 65536 == 0) forget_qids(t - 60 * kSec);
  }
  return close_logs();
}

}  // namespace mt::sim::postfix
