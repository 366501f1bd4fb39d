#pragma once
// The org map's geometry: a nested squarified treemap (Bruls, Huizing, van Wijk 2000). Pure
// functions of the unit tree and head counts, so the layout is tested apart from the scene.
#include <QRectF>
#include <vector>

namespace mt {

struct TreemapNode {
    int parent = -1;      // index into the same vector, -1: top level
    double own = 0;       // weight of the node itself (its own head count)
};

struct TreemapOptions {
    double header = 22;       // room for a tile's title above its children (scene units), at least
    double headerFraction = 0.06; // ... or this fraction of the tile's shorter side
    double padding = 4;       // gap between a parent's edge and its children
    double minWeight = 0.5;   // a unit with nobody in it still gets a small tile
};

// Squarifies weights into rect: one rectangle per weight, in the order given, areas
// proportional to the weights, aspect ratios close to 1. Zero or negative weights get empty
// rectangles.
std::vector<QRectF> squarify(const std::vector<double>& weights, const QRectF& rect);

// The weight a node's tile gets among its siblings: its subtree's own weights, each at least
// minWeight. Indexed like nodes.
std::vector<double> treemapWeights(const std::vector<TreemapNode>& nodes, const TreemapOptions& opt = {});

// Nested layout: top-level nodes share bounds; each node's children share its rectangle less
// the header and padding, next to a slot for the node's own members (when own > 0), so a
// node's area is proportional to its weight among its siblings. Children come in the order of
// the vector. Returns one rectangle per node.
std::vector<QRectF> layoutTreemap(const std::vector<TreemapNode>& nodes, const QRectF& bounds, const TreemapOptions& opt = {});

// The height of a tile's title band.
double treemapHeaderHeight(const QRectF& tile, const TreemapOptions& opt = {});
// The area left for a node's children (its rectangle less header and padding).
QRectF treemapContentRect(const QRectF& tile, const TreemapOptions& opt = {});

} // namespace mt
