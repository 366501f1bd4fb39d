#pragma once
// The org map's visual vocabulary, shared by the tiles and the legend: heat levels, type
// glyphs, recall glyphs, campaign colours. Shape and number carry the meaning; colour
// (Okabe-Ito and a viridis-like ramp, safe for the common colour-vision deficiencies) only
// repeats it. Everything is drawn as vectors, so it stays sharp at any zoom and pixel ratio.
#include "model/orgmap/OrgMapData.h"

#include <QColor>
#include <QRectF>

class QPainter;

namespace mt::orgmap {

// 0: nothing flagged; 1..5 by total flagged (sent + received): 1-4, 5-19, 20-49, 50-199, 200+.
int heatLevel(int total);
QString heatLevelRange(int level); // "1-4", ..., "200+"
QColor heatColor(int level);       // viridis-like, level 0 transparent
QColor heatTextColor(int level);   // black or white, whichever reads on heatColor
// A meter of five bars, the first `level` filled: the level as a shape.
void drawHeatMeter(QPainter* p, const QRectF& r, int level);

QColor typeColor(TypeFamily f);
// One glyph per family: circle S (script), square X (executable), diamond M (macro),
// rounded Z (archive), triangle 2 (double extension), hexagon A (other attachment).
void drawTypeGlyph(QPainter* p, const QRectF& r, TypeFamily f);

enum class RecallKind { Suspended, Failed, Deleted };
// Pause bars (suspended), a cross (failed), a struck-out box (deleted).
void drawRecallGlyph(QPainter* p, const QRectF& r, RecallKind k);

// Okabe-Ito, by the campaign's position in the case's campaign list.
QColor campaignColor(int campaignIndex);

} // namespace mt::orgmap
