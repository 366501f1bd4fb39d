#include "PagedReport.h"

#include <QAbstractTextDocumentLayout>
#include <QPainter>
#include <QPdfWriter>
#include <QTextDocument>
#include <QTextCursor>
#include <QTextFrame>
#include <QTextTable>

#include <map>

#include <algorithm>
#include <cmath>
#include <vector>

#include <QTextBlock>
#include <QTextLayout>

namespace mt::report {

struct PagedReport::Item {
    enum Kind { Section, Subheading, Html, Figure } kind = Html;
    QString text;           // heading, HTML, or caption
    double heightMm = 0;    // figures
    Painter paint;
    std::unique_ptr<QTextDocument> doc; // laid out HTML (and headings)
};

// Where an item landed: a slice of a text document, or a figure.
struct PagedReport::Placed {
    int page = 0;           // 1-based; 1 = title page
    double y = 0;           // top on the page, device units, inside m_body
    double height = 0;
    const Item* item = nullptr;
    double docOffset = 0;   // for text: the slice of the document drawn here starts at this y
};

namespace {

constexpr double kMarginMm = 18;
constexpr double kHeaderMm = 8;   // header band above the body, footer band below
constexpr double kGapMm = 4;

const char* kCss =
    "body { font-family: 'DejaVu Sans'; font-size: 9.5pt; color: #1a1a1a; }"
    "h1 { font-size: 17pt; color: #0b3a5c; margin-bottom: 6px; }"
    "h2 { font-size: 12.5pt; color: #0b3a5c; margin-top: 8px; margin-bottom: 4px; }"
    "table { border-collapse: collapse; }"
    "th { background: #e6eef5; text-align: left; padding: 3px 6px; border-bottom: 1px solid #8aa4bd; }"
    "td { padding: 2px 6px; border-bottom: 1px solid #e3e3e3; }"
    "td.num, th.num { text-align: right; }"
    ".muted { color: #666666; }"
    ".figure { font-size: 11pt; font-weight: 600; color: #0b3a5c; }"
    ".note { color: #7a1c1c; }";

std::unique_ptr<QTextDocument> makeDoc(const QString& html, QPaintDevice* device, double width) {
    auto doc = std::make_unique<QTextDocument>();
    doc->documentLayout()->setPaintDevice(device);
    doc->setDefaultStyleSheet(QString::fromLatin1(kCss));
    doc->setDocumentMargin(0);
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPointSizeF(9.5);
    doc->setDefaultFont(f);
    doc->setHtml(html);
    doc->setTextWidth(width);
    return doc;
}

} // namespace

PagedReport::PagedReport(const QString& title, const QPageSize& pageSize) : m_title(title), m_pageSize(pageSize) {}
PagedReport::~PagedReport() = default;

void PagedReport::setTitlePage(const QString& subtitle, const QVector<QPair<QString, QString>>& facts) {
    m_subtitle = subtitle;
    m_facts = facts;
}

void PagedReport::setHeaderText(const QString& left, const QString& right) {
    m_headerLeft = left;
    m_headerRight = right;
}

void PagedReport::beginSection(const QString& heading) {
    auto it = std::make_shared<Item>();
    it->kind = Item::Section;
    it->text = heading;
    m_items.push_back(it);
}

void PagedReport::addSubheading(const QString& heading) {
    auto it = std::make_shared<Item>();
    it->kind = Item::Subheading;
    it->text = heading;
    m_items.push_back(it);
}

void PagedReport::addHtml(const QString& html) {
    auto it = std::make_shared<Item>();
    it->kind = Item::Html;
    it->text = html;
    m_items.push_back(it);
}

void PagedReport::addFigure(double heightMm, const QString& caption, Painter paint) {
    auto it = std::make_shared<Item>();
    it->kind = Item::Figure;
    it->text = caption;
    it->heightMm = heightMm;
    it->paint = std::move(paint);
    m_items.push_back(it);
}

QVector<QPair<QString, int>> PagedReport::contents() const {
    QVector<QPair<QString, int>> out;
    for (const Entry& e : m_entries) out.push_back({e.text, e.page});
    return out;
}

void PagedReport::layout(QPdfWriter& pdf, int contentsPages) {
    m_placed.clear();
    m_entries.clear();
    const double pageH = m_body.height();
    int page = 1 + contentsPages; // the title page, the contents, then the body
    double y = pageH;             // "page full": the first section opens a page
    for (const auto& item : m_items) {
        switch (item->kind) {
        case Item::Section:
        case Item::Subheading: {
            const bool section = item->kind == Item::Section;
            const QString html = section ? QStringLiteral("<h1>%1</h1>").arg(item->text.toHtmlEscaped())
                                         : QStringLiteral("<h2>%1</h2>").arg(item->text.toHtmlEscaped());
            item->doc = makeDoc(html, &pdf, m_body.width());
            const double h = item->doc->size().height();
            // A section opens a page; a sub-heading never sits alone at the bottom of one.
            if (section || y + h + 30 * m_dpmm > pageH) {
                if (y > 0) ++page;
                y = 0;
            }
            m_entries.push_back({section ? 0 : 1, item->text, page});
            m_placed.push_back({page, y, h, item.get(), 0});
            y += h;
            break;
        }
        case Item::Html: {
            item->doc = makeDoc(item->text, &pdf, m_body.width());
            // Let QTextDocument break the text into pages of the body's height; the first
            // slice goes in the space left on this page when it is worth using.
            double remaining = pageH - y;
            if (remaining < 25 * m_dpmm) {
                ++page;
                y = 0;
                remaining = pageH;
            }
            QTextDocument* doc = item->doc.get();
            const double total = doc->size().height();
            // Where the document may be cut: below any line (lines of table cells included,
            // so a table breaks between rows, never through one).
            std::vector<std::pair<double, double>> lines; // top, bottom: spans no cut may cross
            // A table row is one span (all its cells, top to bottom): rows never split.
            std::map<std::pair<const QTextTable*, int>, std::pair<double, double>> rows;
            for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
                const QRectF br = doc->documentLayout()->blockBoundingRect(b);
                const QTextLayout* tl = b.layout();
                QTextCursor c(b);
                const QTextTable* table = c.currentTable();
                for (int i = 0; tl && i < tl->lineCount(); ++i) {
                    const double top = br.top() + tl->lineAt(i).rect().top(), bottom = br.top() + tl->lineAt(i).rect().bottom();
                    if (table) {
                        const auto key = std::make_pair(table, table->cellAt(b.position()).row());
                        auto it = rows.find(key);
                        if (it == rows.end()) rows.emplace(key, std::make_pair(top, bottom));
                        else it->second = {std::min(it->second.first, top), std::max(it->second.second, bottom)};
                    } else {
                        lines.push_back({top, bottom});
                    }
                }
            }
            for (const auto& [key, span] : rows) lines.push_back(span);
            std::sort(lines.begin(), lines.end());
            // A cut is clean when no line (of any cell of a table row) straddles it.
            std::vector<double> cuts;
            {
                std::vector<double> bottoms;
                for (const auto& l : lines) bottoms.push_back(l.second);
                std::sort(bottoms.begin(), bottoms.end());
                size_t k = 0;
                double maxBottom = 0;
                for (double c : bottoms) {
                    while (k < lines.size() && lines[k].first < c - 0.5) maxBottom = std::max(maxBottom, lines[k++].second);
                    if (maxBottom <= c + 0.5) cuts.push_back(c);
                }
            }
            double offset = 0;
            while (offset < total - 0.5) {
                const double room = pageH - y;
                double slice = total - offset;
                if (slice > room) {
                    // The last cut that fits; with none (a line taller than the page), cut anyway.
                    auto it = std::upper_bound(cuts.begin(), cuts.end(), offset + room);
                    double best = offset;
                    if (it != cuts.begin()) best = *std::prev(it);
                    slice = best > offset + 1 ? best - offset : room;
                }
                m_placed.push_back({page, y, slice, item.get(), offset});
                offset += slice;
                y += slice;
                if (offset < total - 0.5) {
                    ++page;
                    y = 0;
                }
            }
            y += kGapMm * m_dpmm;
            break;
        }
        case Item::Figure: {
            // The caption's own height (it may wrap), then the figure.
            item->doc = makeDoc(QStringLiteral("<div class='figure'>%1</div>").arg(item->text.toHtmlEscaped()), &pdf, m_body.width());
            const double h = std::min(item->heightMm * m_dpmm + item->doc->size().height() + 1.5 * m_dpmm, pageH);
            if (y + h > pageH) {
                ++page;
                y = 0;
            }
            m_placed.push_back({page, y, h, item.get(), 0});
            y += h + kGapMm * m_dpmm;
            break;
        }
        }
    }
    m_pageCount = page;
}

void PagedReport::drawFrame(QPainter& p, int page) {
    if (page == 1) return;
    const QRectF full(0, 0, m_body.right() + m_body.left(), m_body.bottom() + m_body.top());
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPointSizeF(7.5);
    p.setFont(f);
    p.setPen(QColor(0x55, 0x55, 0x55));
    const double band = kHeaderMm * m_dpmm;
    const QRectF header(m_body.left(), m_body.top() - band - 2 * m_dpmm, m_body.width(), band);
    p.drawText(header, Qt::AlignLeft | Qt::AlignBottom, m_headerLeft);
    p.drawText(header, Qt::AlignRight | Qt::AlignBottom, m_headerRight);
    p.setPen(QPen(QColor(0xb0, 0xb0, 0xb0), 0.25 * m_dpmm));
    p.drawLine(QPointF(m_body.left(), m_body.top() - 1.5 * m_dpmm), QPointF(m_body.right(), m_body.top() - 1.5 * m_dpmm));
    const QRectF footer(m_body.left(), m_body.bottom() + 2 * m_dpmm, m_body.width(), band);
    p.drawLine(QPointF(m_body.left(), m_body.bottom() + 1.5 * m_dpmm), QPointF(m_body.right(), m_body.bottom() + 1.5 * m_dpmm));
    p.setPen(QColor(0x55, 0x55, 0x55));
    p.drawText(footer, Qt::AlignLeft | Qt::AlignTop, m_title);
    p.drawText(footer, Qt::AlignRight | Qt::AlignTop, QStringLiteral("Page %1 of %2").arg(page).arg(m_pageCount));
    Q_UNUSED(full);
}

void PagedReport::render(QPdfWriter& pdf, QPainter& p) {
    // Title page.
    {
        auto doc = makeDoc(QString(), &pdf, m_body.width());
        QString html = QStringLiteral("<div style='font-size:26pt; font-weight:700; color:#0b3a5c'>%1</div>"
                                      "<div style='font-size:14pt; color:#444444; margin-top:6px'>%2</div><br/><br/><table>")
                           .arg(m_title.toHtmlEscaped(), m_subtitle.toHtmlEscaped());
        for (const auto& [k, v] : m_facts)
            html += QStringLiteral("<tr><td class='muted' style='font-size:11pt; padding-right:14px'>%1</td>"
                                   "<td style='font-size:11pt'>%2</td></tr>").arg(k.toHtmlEscaped(), v.toHtmlEscaped());
        html += QStringLiteral("</table>");
        doc->setHtml(html);
        p.save();
        p.translate(m_body.left(), m_body.top() + m_body.height() * 0.28);
        doc->drawContents(&p);
        p.restore();
    }
    // Contents.
    int page = 1;
    {
        pdf.newPage();
        ++page;
        QString html = QStringLiteral("<h1>Contents</h1><table width='100%'>");
        for (const Entry& e : m_entries)
            html += QStringLiteral("<tr><td style='border-bottom: 0px; padding-left:%1px; %2'>%3</td>"
                                   "<td style='border-bottom: 0px' align='right'>%4</td></tr>")
                        .arg(e.level * 18)
                        .arg(e.level == 0 ? QStringLiteral("font-weight:600") : QString())
                        .arg(e.text.toHtmlEscaped())
                        .arg(e.page);
        html += QStringLiteral("</table>");
        auto doc = makeDoc(html, &pdf, m_body.width());
        doc->setPageSize(QSizeF(m_body.width(), m_body.height()));
        for (int i = 0; i < doc->pageCount(); ++i) {
            if (i > 0) {
                pdf.newPage();
                ++page;
            }
            drawFrame(p, page);
            p.save();
            p.translate(m_body.left(), m_body.top() - i * m_body.height());
            doc->drawContents(&p, QRectF(0, i * m_body.height(), m_body.width(), m_body.height()));
            p.restore();
        }
    }
    // Body.
    int current = page;
    for (const Placed& pl : m_placed) {
        while (current < pl.page) {
            pdf.newPage();
            ++current;
            drawFrame(p, current);
        }
        const QRectF at(m_body.left(), m_body.top() + pl.y, m_body.width(), pl.height);
        const Item* item = pl.item;
        if (item->kind == Item::Figure) {
            const double caption = item->doc->size().height() + 1.5 * m_dpmm;
            p.save();
            p.translate(at.topLeft());
            item->doc->drawContents(&p);
            p.restore();
            const QRectF area(at.left(), at.top() + caption, at.width(), at.height() - caption);
            p.save();
            p.setClipRect(area);
            item->paint(p, area);
            p.restore();
            continue;
        }
        p.save();
        p.translate(at.left(), at.top() - pl.docOffset);
        // Inset by a unit: a line ending exactly at the cut must not be drawn (clipped, but
        // still in the PDF's text) on the page after it too.
        item->doc->drawContents(&p, QRectF(0, pl.docOffset + 1, at.width(), std::max(1.0, pl.height - 2)));
        p.restore();
    }
}

bool PagedReport::write(const QString& path, QString* error) {
    QPdfWriter pdf(path);
    pdf.setPageSize(m_pageSize);
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter);
    pdf.setResolution(300);
    pdf.setTitle(m_title);
    pdf.setCreator(QStringLiteral("MailTriage"));
    m_dpmm = pdf.resolution() / 25.4;
    const QSizeF pageMm = m_pageSize.size(QPageSize::Millimeter);
    const double band = kHeaderMm + 2;
    m_body = QRectF(kMarginMm * m_dpmm, (kMarginMm + band) * m_dpmm, (pageMm.width() - 2 * kMarginMm) * m_dpmm,
                    (pageMm.height() - 2 * kMarginMm - 2 * band) * m_dpmm);
    // The contents come before the body: lay out once to count their entries, then again
    // with the right number of contents pages (a long contents pushes every page number on).
    layout(pdf, 1);
    {
        QString html = QStringLiteral("<h1>Contents</h1><table>");
        for (const Entry& e : m_entries) html += QStringLiteral("<tr><td>%1</td><td>%2</td></tr>").arg(e.text.toHtmlEscaped()).arg(e.page);
        html += QStringLiteral("</table>");
        auto doc = makeDoc(html, &pdf, m_body.width());
        doc->setPageSize(QSizeF(m_body.width(), m_body.height()));
        m_contentsPages = std::max(1, doc->pageCount());
    }
    if (m_contentsPages != 1) layout(pdf, m_contentsPages);
    QPainter p;
    if (!p.begin(&pdf)) {
        if (error) *error = QStringLiteral("cannot write %1").arg(path);
        return false;
    }
    render(pdf, p);
    p.end();
    return true;
}

} // namespace mt::report
