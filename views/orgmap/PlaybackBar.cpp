#include "PlaybackBar.h"

#include <QComboBox>
#include <QDateTime>
#include <QTimeZone>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QStyle>
#include <QTimer>
#include <QToolButton>

namespace mt {

namespace {
constexpr int kSliderSteps = 10000;
constexpr int kTickMs = 40;
} // namespace

PlaybackBar::PlaybackBar(QWidget* parent) : QWidget(parent) {
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(4, 2, 4, 2);
    m_play = new QToolButton(this);
    m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_play->setToolTip(tr("Play the outbreak"));
    m_play->setAccessibleName(tr("Play"));
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setRange(0, kSliderSteps);
    m_slider->setValue(kSliderSteps);
    m_slider->setAccessibleName(tr("Time"));
    m_speedBox = new QComboBox(this);
    const std::pair<const char*, qint64> speeds[] = {{"1 s/s", 1000}, {"10 s/s", 10'000}, {"1 min/s", 60'000}, {"10 min/s", 600'000}, {"1 h/s", 3'600'000}};
    for (auto [label, ms] : speeds) m_speedBox->addItem(tr(label), ms);
    m_speedBox->setCurrentIndex(2);
    m_speedBox->setToolTip(tr("Log time replayed per second"));
    m_label = new QLabel(this);
    m_label->setMinimumWidth(m_label->fontMetrics().horizontalAdvance(QStringLiteral("2026-11-24 09:21:49 UTC (all)")) + 8);
    row->addWidget(m_play);
    row->addWidget(m_slider, 1);
    row->addWidget(m_speedBox);
    row->addWidget(m_label);
    m_timer = new QTimer(this);
    m_timer->setInterval(kTickMs);
    connect(m_timer, &QTimer::timeout, this, [this] { step(kTickMs); });
    connect(m_play, &QToolButton::clicked, this, [this] { isPlaying() ? pause() : play(); });
    connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
        if (m_settingSlider) return;
        setCursor(v >= kSliderSteps ? kAll : m_first + (m_last - m_first) * v / kSliderSteps);
    });
    connect(m_speedBox, &QComboBox::currentIndexChanged, this, [this] { m_speed = m_speedBox->currentData().toLongLong(); });
    setRange(0, 0);
}

void PlaybackBar::setRange(qint64 first, qint64 last) {
    pause();
    m_first = first;
    m_last = last;
    const bool usable = last > first;
    m_play->setEnabled(usable);
    m_slider->setEnabled(usable);
    m_speedBox->setEnabled(usable);
    m_cursor = -1; // force the update below
    setCursor(kAll);
}

void PlaybackBar::setCursor(qint64 ms) {
    if (ms != kAll) ms = std::clamp(ms, m_first, m_last);
    if (ms == m_cursor) return;
    m_cursor = ms;
    m_settingSlider = true;
    m_slider->setValue(ms == kAll || m_last <= m_first ? kSliderSteps
                                                       : static_cast<int>((ms - m_first) * kSliderSteps / (m_last - m_first)));
    m_settingSlider = false;
    updateLabel();
    emit cursorChanged(ms);
}

void PlaybackBar::setSpeed(qint64 logMsPerSecond) {
    m_speed = std::max<qint64>(1, logMsPerSecond);
    const int i = m_speedBox->findData(m_speed);
    if (i >= 0) m_speedBox->setCurrentIndex(i);
}

bool PlaybackBar::isPlaying() const { return m_timer->isActive(); }

void PlaybackBar::play() {
    if (m_last <= m_first || isPlaying()) return;
    if (m_cursor == kAll || m_cursor >= m_last) setCursor(m_first);
    m_timer->start();
    m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
    m_play->setToolTip(tr("Pause"));
    emit playingChanged(true);
}

void PlaybackBar::pause() {
    if (!m_timer->isActive()) return;
    m_timer->stop();
    m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_play->setToolTip(tr("Play the outbreak"));
    emit playingChanged(false);
}

void PlaybackBar::step(qint64 wallMs) {
    if (m_cursor == kAll) return;
    const qint64 next = m_cursor + m_speed * wallMs / 1000;
    if (next >= m_last) {
        pause();
        setCursor(kAll);
    } else {
        setCursor(next);
    }
}

void PlaybackBar::updateLabel() {
    if (m_last <= m_first && m_first == 0) {
        m_label->setText(tr("no flagged mail"));
        return;
    }
    const qint64 t = m_cursor == kAll ? m_last : m_cursor;
    const QString stamp = QDateTime::fromMSecsSinceEpoch(t, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
    m_label->setText(m_cursor == kAll ? tr("%1 (all)").arg(stamp) : stamp);
}

} // namespace mt
