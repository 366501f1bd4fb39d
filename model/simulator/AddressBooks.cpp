#include "AddressBooks.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/small_world_generator.hpp>

#include <algorithm>
#include <unordered_set>

namespace mt::sim {

namespace {

using postfix::Rng;
using postfix::cat;

// Neighbours on the ring on each side, before rewiring (Watts-Strogatz k / 2).
constexpr int kRingHalf = 8;
// Share of ring edges rewired to a random member of staff anywhere in the company.
constexpr double kRewire = 0.1;

// Divisions whose people deal with outsiders all day.
bool outwardFacing(const std::string& division) {
    return division == "Sales" || division == "Marketing" || division == "Operations" || division == "Legal"
        || division == "Finance" || division == "Executive";
}

} // namespace

AddressBooks buildAddressBooks(const postfix::World& world, std::uint64_t seed) {
    Rng r(seed ^ 0x61646472626f6f6bull); // "addrbook"
    const auto& users = world.user_list();
    const auto& teams = world.teams();
    const int n = static_cast<int>(users.size());
    AddressBooks out;
    out.books.resize(users.size());
    if (n == 0) return out;

    // Ring order = chart order: a team's members sit together, teams of a department next to
    // each other, so ring neighbours are colleagues.
    std::vector<int> order;
    order.reserve(users.size());
    for (const auto& t : teams)
        for (int u : t.members) order.push_back(u);
    std::vector<char> placed(users.size(), 0);
    for (int u : order) placed[static_cast<size_t>(u)] = 1;
    for (int u = 0; u < n; ++u)
        if (!placed[static_cast<size_t>(u)]) order.push_back(u);
    std::vector<int> position(users.size());
    for (int i = 0; i < n; ++i) position[static_cast<size_t>(order[static_cast<size_t>(i)])] = i;

    // The small world. The generator needs a vertex outside every ring neighbourhood to rewire
    // to, so k stays below n - 1.
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
    using SmallWorld = boost::small_world_iterator<Rng, Graph>;
    Graph g(static_cast<Graph::vertices_size_type>(n));
    if (n >= 4) {
        const int k = std::max(2, std::min(2 * kRingHalf, (n - 2) / 2 * 2));
        Rng gen(seed ^ 0x736d616c6c776c64ull); // "smallwld"
        for (SmallWorld it(gen, static_cast<Graph::vertices_size_type>(n), static_cast<Graph::vertices_size_type>(k), kRewire),
             end;
             it != end; ++it)
            if (it->first != it->second) boost::add_edge(it->first, it->second, g);
    }
    // Everybody knows their team and their manager.
    const auto& managers = world.manager_of();
    for (const auto& t : teams)
        for (size_t i = 0; i < t.members.size(); ++i)
            for (size_t j = i + 1; j < t.members.size(); ++j)
                boost::add_edge(static_cast<size_t>(position[static_cast<size_t>(t.members[i])]),
                                static_cast<size_t>(position[static_cast<size_t>(t.members[j])]), g);
    for (int u = 0; u < n; ++u) {
        const int boss = managers[static_cast<size_t>(u)];
        if (boss >= 0 && boss != u)
            boost::add_edge(static_cast<size_t>(position[static_cast<size_t>(u)]),
                            static_cast<size_t>(position[static_cast<size_t>(boss)]), g);
    }

    // Partner organisations: a few external domains under .example; each team works with one
    // or two of them and knows a handful of people there.
    const auto& ext = world.ext_domains();
    std::vector<int> candidates;
    for (int i = 0; i < static_cast<int>(ext.size()); ++i) {
        const std::string& name = ext[static_cast<size_t>(i)].name;
        if (name.size() > 8 && name.compare(name.size() - 8, 8, ".example") == 0) candidates.push_back(i);
    }
    if (candidates.empty())
        for (int i = 0; i < static_cast<int>(ext.size()); ++i) candidates.push_back(i);
    const int npartners = std::min<int>(static_cast<int>(candidates.size()), std::clamp(n / 40, 4, 12));
    for (int i = 0; i < npartners; ++i) { // partial Fisher-Yates
        const size_t j = static_cast<size_t>(i) + r.below(candidates.size() - static_cast<size_t>(i));
        std::swap(candidates[static_cast<size_t>(i)], candidates[j]);
        out.partnerDomains.push_back(ext[static_cast<size_t>(candidates[static_cast<size_t>(i)])].name);
    }
    const auto& first = world.first_names();
    const auto& last = world.last_names();
    std::unordered_set<std::string> taken;
    std::vector<std::vector<std::string>> teamPartners(teams.size());
    for (size_t ti = 0; ti < teams.size() && !out.partnerDomains.empty(); ++ti) {
        const int domains = r.chance(0.35) ? 2 : 1;
        for (int d = 0; d < domains; ++d) {
            const std::string& dom = out.partnerDomains[r.below(out.partnerDomains.size())];
            const int people = static_cast<int>(r.range(2, 5));
            for (int p = 0; p < people; ++p) {
                std::string a = cat(r.pick(first), '.', r.pick(last), '@', dom);
                if (!taken.insert(a).second) continue; // one person, one team
                teamPartners[ti].push_back(std::move(a));
            }
        }
    }

    const auto& teamOf = world.team_of();
    const auto& divisions = world.divisions();
    for (int u = 0; u < n; ++u) {
        auto& book = out.books[static_cast<size_t>(u)];
        const auto [b, e] = boost::adjacent_vertices(static_cast<size_t>(position[static_cast<size_t>(u)]), g);
        for (auto it = b; it != e; ++it) {
            const int v = order[*it];
            if (v != u) book.push_back({v, users[static_cast<size_t>(v)].email});
        }
        const int ti = teamOf[static_cast<size_t>(u)];
        if (ti >= 0) {
            const auto& pool = teamPartners[static_cast<size_t>(ti)];
            const std::string& division = divisions[static_cast<size_t>(teams[static_cast<size_t>(ti)].division)].name;
            int want = static_cast<int>(r.range(0, 2)) + (outwardFacing(division) ? static_cast<int>(r.range(1, 3)) : 0);
            for (int k = 0; k < want && !pool.empty(); ++k) book.push_back({-1, pool[r.below(pool.size())]});
        }
        std::sort(book.begin(), book.end(), [](const Contact& x, const Contact& y) { return x.address < y.address; });
        book.erase(std::unique(book.begin(), book.end(), [](const Contact& x, const Contact& y) { return x.address == y.address; }),
                   book.end());
    }
    return out;
}

} // namespace mt::sim
