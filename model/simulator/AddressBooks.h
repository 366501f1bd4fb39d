#pragma once
// Address books of the simulated organisation: a small-world contact network (Watts-Strogatz,
// built with Boost.Graph) over the staff in org-chart order, so that most contacts are team
// and department colleagues and a few, rewired at random, are company-wide; every team's
// members know each other and their manager; and people have some contacts at a few external
// partner organisations (*.example), mostly the partners their team works with.
#include "PostfixWorld.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mt::sim {

struct Contact {
    int user = -1;       // index into World::user_list(), -1 for an external contact
    std::string address; // lower-case e-mail address
};

struct AddressBooks {
    std::vector<std::vector<Contact>> books; // per user, sorted by address (as a mail client lists them)
    std::vector<std::string> partnerDomains; // the external organisations people have contacts at
};

// Deterministic for a given world and seed. Internal contacts are symmetric: when a knows b,
// b knows a.
AddressBooks buildAddressBooks(const postfix::World& world, std::uint64_t seed);

} // namespace mt::sim
