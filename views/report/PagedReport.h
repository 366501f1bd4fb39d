#pragma once
// A small page layout engine for PDF reports on QPdfWriter: sections of rich text (laid out
// and split across pages by QTextDocument itself, so tables break between rows and repeat
// their header row), figures drawn straight onto the page by a callback (vector graphics:
// the views paint themselves), a title page, a table of contents with page numbers, and a
// header and footer with "page n of m" on every page after the title.
//
// Two passes: layout() places everything and knows each heading's page; render() then draws
// the title page, the contents and the body. Nothing here knows what the report is about.
#include <QMarginsF>
#include <QPageSize>
#include <QRectF>
#include <QString>
#include <QVector>
#include <functional>
#include <memory>

class QPainter;
class QPdfWriter;
class QTextDocument;

namespace mt::report {

class PagedReport {
public:
    using Painter = std::function<void(QPainter& painter, const QRectF& rect)>;

    PagedReport(const QString& title, const QPageSize& pageSize);
    ~PagedReport();

    // Title page: the title, then lines of "label: value".
    void setTitlePage(const QString& subtitle, const QVector<QPair<QString, QString>>& facts);
    void setHeaderText(const QString& left, const QString& right);
    // A new section on a new page, listed in the contents.
    void beginSection(const QString& heading);
    // A sub-heading inside the current section, listed in the contents (indented).
    void addSubheading(const QString& heading);
    // Rich text (Qt's HTML subset). Tables may span pages.
    void addHtml(const QString& html);
    // A figure of the given height (mm) with a caption, drawn by paint at print time; moves to
    // the next page when it does not fit on this one.
    void addFigure(double heightMm, const QString& caption, Painter paint);

    // Lays out and writes the PDF. False with error set when the file cannot be written.
    bool write(const QString& path, QString* error = nullptr);
    int pageCount() const { return m_pageCount; }
    // Heading and page of every contents entry after write() (page 1 = the title page).
    QVector<QPair<QString, int>> contents() const;

private:
    struct Item;
    struct Placed;
    void layout(QPdfWriter& pdf, int contentsPages);
    void render(QPdfWriter& pdf, QPainter& p);
    void drawFrame(QPainter& p, int page);

    QString m_title, m_subtitle, m_headerLeft, m_headerRight;
    QVector<QPair<QString, QString>> m_facts;
    QPageSize m_pageSize;
    QVector<std::shared_ptr<Item>> m_items;
    QVector<Placed> m_placed;
    struct Entry {
        int level = 0;
        QString text;
        int page = 0;
    };
    QVector<Entry> m_entries;
    int m_pageCount = 0;
    int m_contentsPages = 1;
    QRectF m_body;      // the text area of a page, in device units
    double m_dpmm = 0;  // device units per mm
};

} // namespace mt::report
