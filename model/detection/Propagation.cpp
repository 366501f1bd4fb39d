#include "Propagation.h"

#include <boost/graph/breadth_first_search.hpp>

namespace mt::det {

namespace {

// Records distance and tree parent of every vertex the search discovers.
class Recorder : public boost::default_bfs_visitor {
public:
    Recorder(std::vector<int>& dist, std::vector<long>& parent) : m_dist(dist), m_parent(parent) {}
    template <class Edge, class G>
    void tree_edge(Edge e, const G& g) const {
        const auto s = boost::source(e, g), t = boost::target(e, g);
        m_dist[t] = m_dist[s] + 1;
        m_parent[t] = static_cast<long>(s);
    }

private:
    std::vector<int>& m_dist;
    std::vector<long>& m_parent;
};

class Collector : public boost::default_bfs_visitor {
public:
    explicit Collector(std::vector<std::size_t>& out) : m_out(out) {}
    template <class V, class G>
    void discover_vertex(V v, const G&) const { m_out.push_back(v); }

private:
    std::vector<std::size_t>& m_out;
};

} // namespace

PropagationGraph::PropagationGraph(std::size_t vertices) : m_vertices(vertices), m_g(vertices) {}

void PropagationGraph::addEdge(std::size_t from, std::size_t to) {
    if (from == to || from >= m_vertices || to >= m_vertices) return;
    boost::add_edge(from, to, m_g);
}

std::vector<std::size_t> PropagationGraph::roots() const {
    std::vector<std::size_t> out;
    for (std::size_t v = 0; v < m_vertices; ++v)
        if (boost::in_degree(v, m_g) == 0) out.push_back(v);
    return out;
}

void PropagationGraph::generations(std::vector<int>& generation, std::vector<long>& parents) const {
    // A copy with one more vertex, a virtual source pointing at every root: one search then
    // gives each vertex its distance from the nearest root.
    Graph g = m_g;
    const auto source = boost::add_vertex(g);
    for (std::size_t r : roots()) boost::add_edge(source, r, g);
    std::vector<int> dist(m_vertices + 1, -1);
    std::vector<long> parent(m_vertices + 1, -1);
    dist[source] = -1; // roots come out at generation 0
    boost::breadth_first_search(g, source, boost::visitor(Recorder(dist, parent)));
    generation.assign(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(m_vertices));
    parents.assign(m_vertices, -1);
    for (std::size_t v = 0; v < m_vertices; ++v)
        parents[v] = parent[v] == static_cast<long>(source) ? -1 : parent[v];
    // Vertices the search never reached keep -1 (only possible on a cycle without a root).
    for (std::size_t v = 0; v < m_vertices; ++v)
        if (parent[v] < 0) generation[v] = -1;
}

std::vector<std::size_t> PropagationGraph::reachableFrom(std::size_t v) const {
    std::vector<std::size_t> out;
    if (v >= m_vertices) return out;
    boost::breadth_first_search(m_g, v, boost::visitor(Collector(out)));
    return out;
}

} // namespace mt::det
