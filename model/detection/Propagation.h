#pragma once
// The propagation graph of a campaign (Boost.Graph): one vertex per campaign message, an edge
// M -> M' when the sender of M' received M shortly before sending M' ("received it, then sent
// it on"). Generations come from a breadth-first search from the roots (messages nobody
// received before sending); everything reachable from a message is what a recall cascade
// must chase when that message was opened.
#include <boost/graph/adjacency_list.hpp>

#include <cstddef>
#include <vector>

namespace mt::det {

class PropagationGraph {
public:
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

    explicit PropagationGraph(std::size_t vertices = 0);
    std::size_t vertexCount() const { return m_vertices; }
    std::size_t edgeCount() const { return boost::num_edges(m_g); }
    void addEdge(std::size_t from, std::size_t to);

    // Vertices without incoming edges.
    std::vector<std::size_t> roots() const;
    // Breadth-first from all roots at once: generation 0 for the roots, then 1, 2 ...
    // parents[v] is the BFS tree parent (-1 for roots). A vertex on a cycle with no root
    // upstream (impossible when edges follow time) gets generation -1.
    void generations(std::vector<int>& generation, std::vector<long>& parents) const;
    // Every vertex reachable from v (v included), in BFS order.
    std::vector<std::size_t> reachableFrom(std::size_t v) const;

    const Graph& graph() const { return m_g; }

private:
    std::size_t m_vertices;
    Graph m_g;
};

} // namespace mt::det
