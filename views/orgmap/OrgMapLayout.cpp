#include "OrgMapLayout.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mt {

namespace {

// The worst aspect ratio of a row of areas laid along a side of length side.
double worst(double sum, double minA, double maxA, double side) {
    if (sum <= 0 || minA <= 0) return std::numeric_limits<double>::infinity();
    const double s2 = side * side, sum2 = sum * sum;
    return std::max(s2 * maxA / sum2, sum2 / (s2 * minA));
}

} // namespace

std::vector<QRectF> squarify(const std::vector<double>& weights, const QRectF& rect) {
    std::vector<QRectF> out(weights.size());
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0, [](double a, double w) { return a + std::max(0.0, w); });
    if (total <= 0 || rect.width() <= 0 || rect.height() <= 0) return out;
    // Largest first gives the best ratios; the result goes back in the order given.
    std::vector<int> order;
    for (std::size_t i = 0; i < weights.size(); ++i)
        if (weights[i] > 0) order.push_back(static_cast<int>(i));
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return weights[a] > weights[b]; });
    const double scale = rect.width() * rect.height() / total;
    QRectF free = rect;
    std::size_t i = 0;
    while (i < order.size()) {
        const bool horizontal = free.width() >= free.height(); // the row runs along the shorter side
        const double side = horizontal ? free.height() : free.width();
        std::size_t j = i;
        double sum = 0, minA = 0, maxA = 0, best = std::numeric_limits<double>::infinity();
        while (j < order.size()) {
            const double a = weights[order[j]] * scale;
            const double nsum = sum + a, nmin = j == i ? a : std::min(minA, a), nmax = j == i ? a : std::max(maxA, a);
            const double w = worst(nsum, nmin, nmax, side);
            if (j > i && w > best) break;
            best = w;
            sum = nsum;
            minA = nmin;
            maxA = nmax;
            ++j;
        }
        const bool last = j == order.size();
        // The row's thickness; the last row takes what is left exactly (no rounding gap).
        const double thick = last ? (horizontal ? free.width() : free.height()) : sum / side;
        double pos = horizontal ? free.top() : free.left();
        for (std::size_t k = i; k < j; ++k) {
            const double a = weights[order[k]] * scale;
            const double len = (k + 1 == j) ? (horizontal ? free.bottom() : free.right()) - pos : a / thick;
            out[order[k]] = horizontal ? QRectF(free.left(), pos, thick, len) : QRectF(pos, free.top(), len, thick);
            pos += len;
        }
        if (horizontal) free.setLeft(free.left() + thick);
        else free.setTop(free.top() + thick);
        i = j;
    }
    return out;
}

std::vector<double> treemapWeights(const std::vector<TreemapNode>& nodes, const TreemapOptions& opt) {
    const std::size_t n = nodes.size();
    std::vector<double> w(n, 0);
    std::vector<int> depth(n, -1);
    // Depth by walking up (bounded by n, so a bad parent cycle cannot hang).
    for (std::size_t i = 0; i < n; ++i) {
        int d = 0;
        for (int p = nodes[i].parent; p >= 0 && d <= static_cast<int>(n); p = nodes[p].parent) ++d;
        depth[i] = d;
    }
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return depth[a] > depth[b]; });
    for (int i : order) w[i] += std::max(0.0, nodes[i].own);
    for (int i : order) {
        w[i] = std::max(w[i], opt.minWeight);
        if (nodes[i].parent >= 0) w[nodes[i].parent] += w[i];
    }
    return w;
}

double treemapHeaderHeight(const QRectF& tile, const TreemapOptions& opt) {
    // Grows with the tile so a big tile's title stays readable when the map is zoomed out.
    return std::min(std::max(opt.header, std::min(tile.width(), tile.height()) * opt.headerFraction), tile.height() * 0.3);
}

QRectF treemapContentRect(const QRectF& tile, const TreemapOptions& opt) {
    const double pad = std::min(opt.padding, std::min(tile.width(), tile.height()) * 0.1);
    const double header = treemapHeaderHeight(tile, opt);
    QRectF r = tile.adjusted(pad, header, -pad, -pad);
    if (r.width() < 0) r.setWidth(0);
    if (r.height() < 0) r.setHeight(0);
    return r;
}

std::vector<QRectF> layoutTreemap(const std::vector<TreemapNode>& nodes, const QRectF& bounds, const TreemapOptions& opt) {
    const std::size_t n = nodes.size();
    std::vector<QRectF> out(n);
    const std::vector<double> w = treemapWeights(nodes, opt);
    std::vector<std::vector<int>> children(n);
    std::vector<int> roots;
    for (std::size_t i = 0; i < n; ++i) {
        const int p = nodes[i].parent;
        if (p >= 0 && p < static_cast<int>(n)) children[p].push_back(static_cast<int>(i));
        else roots.push_back(static_cast<int>(i));
    }
    // Breadth first from the top level; a node is placed before its children.
    std::vector<std::pair<std::vector<int>, QRectF>> work;
    work.emplace_back(roots, bounds);
    std::vector<char> placed(n, 0);
    while (!work.empty()) {
        const std::vector<int> group = std::move(work.back().first);
        const QRectF rect = work.back().second;
        work.pop_back();
        std::vector<double> gw;
        for (int i : group) gw.push_back(w[i]);
        const std::vector<QRectF> rects = squarify(gw, rect);
        for (std::size_t k = 0; k < group.size(); ++k) {
            const int i = group[k];
            if (placed[i]) continue;
            placed[i] = 1;
            out[i] = rects[k];
            if (children[i].empty()) continue;
            // Children plus the node's own slot (its direct members), the slot last.
            const QRectF content = treemapContentRect(rects[k], opt);
            const double own = std::max(0.0, nodes[i].own);
            if (own > 0) {
                std::vector<double> cw;
                for (int c : children[i]) cw.push_back(w[c]);
                cw.push_back(own);
                const std::vector<QRectF> parts = squarify(cw, content);
                // Keep the children's part as one rectangle: lay them out again in the bounding
                // box of their parts would break proportions, so each child keeps its slot.
                for (std::size_t c = 0; c < children[i].size(); ++c) {
                    const int ch = children[i][c];
                    if (placed[ch]) continue;
                    work.emplace_back(std::vector<int>{ch}, parts[c]);
                }
            } else {
                work.emplace_back(children[i], content);
            }
        }
    }
    return out;
}

} // namespace mt
