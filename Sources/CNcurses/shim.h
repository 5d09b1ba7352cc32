#ifndef VMTUI_CNCURSES_SHIM_H
#define VMTUI_CNCURSES_SHIM_H
// Wide-character ncurses. Swift cannot import macros or mutable globals under strict
// concurrency, so the few we need are re-exported as small inline functions (prefix cn_).
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }
static inline int cn_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int cn_key_f(int n) { return KEY_F(n); }
static inline int cn_err(void) { return ERR; }
static inline unsigned int cn_a_bold(void) { return A_BOLD; }
static inline unsigned int cn_a_reverse(void) { return A_REVERSE; }
static inline unsigned int cn_a_underline(void) { return A_UNDERLINE; }
static inline unsigned int cn_a_blink(void) { return A_BLINK; }
static inline unsigned int cn_a_dim(void) { return A_DIM; }
static inline unsigned int cn_a_normal(void) { return A_NORMAL; }
static inline void cn_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
static inline int cn_set_escdelay(int ms) { return set_escdelay(ms); }

/// Draws one wide character with attributes and a colour pair at (y, x) of stdscr.
static inline int cn_put_wch(int y, int x, wchar_t ch, attr_t attrs, short pair) {
    cchar_t c;
    wchar_t s[2] = { ch, 0 };
    setcchar(&c, s, attrs, pair, NULL);
    return mvwadd_wch(stdscr, y, x, &c);
}
#endif
