#pragma once
// Replays an outbreak: a time slider, play / pause, a speed and the time under the cursor.
// Drives a time cursor (ms since epoch UTC) with a QTimer; at the end of the range the cursor
// is "everything" (INT64_MAX) so the map shows all flagged mail.
#include <QWidget>
#include <limits>

class QComboBox;
class QLabel;
class QSlider;
class QTimer;
class QToolButton;

namespace mt {

class PlaybackBar : public QWidget {
    Q_OBJECT
public:
    static constexpr qint64 kAll = std::numeric_limits<qint64>::max();

    explicit PlaybackBar(QWidget* parent = nullptr);
    // The replayed span (first and last flagged message). first >= last disables the bar.
    void setRange(qint64 first, qint64 last);
    qint64 first() const { return m_first; }
    qint64 last() const { return m_last; }
    // kAll, or a time in [first, last].
    qint64 cursor() const { return m_cursor; }
    void setCursor(qint64 ms);
    // Log time per wall-clock second while playing.
    void setSpeed(qint64 logMsPerSecond);
    qint64 speed() const { return m_speed; }
    bool isPlaying() const;
    void play();  // from the start when the cursor is at the end
    void pause();
    // Advances as one timer tick of wallMs would (tests drive it without waiting).
    void step(qint64 wallMs);

    QSlider* slider() const { return m_slider; }

signals:
    void cursorChanged(qint64 ms);
    void playingChanged(bool playing);

private:
    void updateLabel();
    qint64 m_first = 0, m_last = 0, m_cursor = kAll, m_speed = 60'000;
    QToolButton* m_play;
    QSlider* m_slider;
    QComboBox* m_speedBox;
    QLabel* m_label;
    QTimer* m_timer;
    bool m_settingSlider = false;
};

} // namespace mt
