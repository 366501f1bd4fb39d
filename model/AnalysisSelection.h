#pragma once
// The one selection every view shares (issue 5): the analyst selects a unit, a user, a
// campaign, a time range or a message in any view, and the others follow. Views hold a
// pointer to the window's single instance, write through the setters and redraw on changed().
// Each facet is independent; an empty facet means "no restriction".
#include <QObject>
#include <QString>

namespace mt {

class AnalysisSelection : public QObject {
    Q_OBJECT
public:
    enum Facet { Unit = 1, User = 2, Campaign = 4, TimeRange = 8, Message = 16 };
    Q_DECLARE_FLAGS(Facets, Facet)

    explicit AnalysisSelection(QObject* parent = nullptr) : QObject(parent) {}

    qint64 unitId() const { return m_unitId; }          // units.id, 0: none
    QString unitPath() const { return m_unitPath; }     // units.path of unitId ("" when none)
    QString user() const { return m_user; }             // a user's address, lower case
    qint64 campaignId() const { return m_campaignId; }  // campaigns.id, 0: none
    qint64 timeFrom() const { return m_from; }          // ms since epoch UTC, inclusive; 0: none
    qint64 timeTo() const { return m_to; }              // exclusive; 0: none
    bool hasTimeRange() const { return m_to > m_from; }
    qint64 messageId() const { return m_messageId; }    // messages.id, 0: none

    void setUnit(qint64 id, const QString& path) {
        if (id == m_unitId && path == m_unitPath) return;
        m_unitId = id;
        m_unitPath = id ? path : QString();
        emit changed(Unit);
    }
    void setUser(const QString& address) {
        const QString a = address.toLower();
        if (a == m_user) return;
        m_user = a;
        emit changed(User);
    }
    void setCampaign(qint64 id) {
        if (id == m_campaignId) return;
        m_campaignId = id;
        emit changed(Campaign);
    }
    void setTimeRange(qint64 from, qint64 to) {
        if (to <= from) from = to = 0;
        if (from == m_from && to == m_to) return;
        m_from = from;
        m_to = to;
        emit changed(TimeRange);
    }
    void setMessage(qint64 id) {
        if (id == m_messageId) return;
        m_messageId = id;
        emit changed(Message);
    }
    // Drops every facet (one changed() for all that were set).
    void clear() {
        Facets f;
        if (m_unitId) f |= Unit;
        if (!m_user.isEmpty()) f |= User;
        if (m_campaignId) f |= Campaign;
        if (hasTimeRange()) f |= TimeRange;
        if (m_messageId) f |= Message;
        m_unitId = m_campaignId = m_from = m_to = m_messageId = 0;
        m_unitPath.clear();
        m_user.clear();
        if (f) emit changed(f);
    }

signals:
    void changed(mt::AnalysisSelection::Facets facets);

private:
    qint64 m_unitId = 0;
    QString m_unitPath;
    QString m_user;
    qint64 m_campaignId = 0;
    qint64 m_from = 0, m_to = 0;
    qint64 m_messageId = 0;
};

} // namespace mt

Q_DECLARE_OPERATORS_FOR_FLAGS(mt::AnalysisSelection::Facets)
