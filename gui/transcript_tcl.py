"""The transcript's Tcl side: appending batches, following the end, settling own messages.

`gui.conversation.ConversationPane` drives a Text widget through these procs. They are Tcl
for speed (see `TCL_HELPERS`), and because following the end has to watch calls that never
pass through Python: the scrollbar, the mouse wheel and the keys all scroll through the
widget's command, which the read-only proxy below sees.

Following the end is a state, not a measurement. A transcript follows new lines until the
*user* scrolls away from the end (any ``yview``/``see``/``scan`` that does not come from
these procs), and follows again once the end is on screen. Measuring "is the view at the
end" when lines arrive, as this once did with ``yview``'s fractions, broke for good after
one long message: a Text laid out while hidden (another tab, a window just opened with the
history) or re-wrapped by a resize keeps its top line, so its bottom drifts a few pixels
off the end; the next batch then found the view "not at the end" and stopped following,
and every later batch after it. So a layout change (<Configure>, <Map>) of a following
transcript puts the end back on screen, and "at the end" is judged in pixels (the last line
wholly on screen), not from fractions that Tk estimates while it measures long lines.
"""

from __future__ import annotations

#: Batches of at least this many insert arguments (text and tags: 6 per plain line) first
#: drop Tk's layout of the lines on screen (see `TCL_HELPERS`).
RELAYOUT_FROM = 24
APPEND_PROC = "::lanchat::append_lines"
READ_ONLY_PROC = "::lanchat::make_read_only"
SETTLE_PROC = "::lanchat::settle"
FORGET_MARKS_PROC = "::lanchat::forget_all_marks"
FOLLOW_PROC = "::lanchat::follow"
KEEP_END_PROC = "::lanchat::keep_end"
SCROLLED_PROC = "::lanchat::scrolled"
AT_END_PROC = "::lanchat::at_end"
#: The bindtag (after the Text class) through which layout changes re-pin a following view.
BINDTAG = "LanChatTranscript"

#: Tcl helpers for the transcript. Speed matters here, for two reasons found by measuring:
#: every call from Python into Tcl releases the GIL (and waits to get it back from busy
#: network threads), so a whole batch is one call; and reconfiguring a Text (the usual
#: ``-state normal``/``disabled`` toggle around an insert) re-lays-out every line it holds
#: — 20 times the cost of the insert itself at 5,000 lines. So the widget stays "normal"
#: and is made read-only by a proxy command that refuses insert/delete from bindings (the
#: user's typing, paste), while our own code writes through the real command.
TCL_HELPERS = """
namespace eval ::lanchat {
    variable relayout_from RELAYOUT_FROM
    variable following
    variable marker
}
# Makes `w` read-only and following; `marker` is the "new messages below" bar, which the
# caller shows when a batch arrives while not following and these procs hide.
proc ::lanchat::make_read_only {w marker} {
    rename $w ::lanchat::real$w
    set ::lanchat::following($w) 1
    set ::lanchat::marker($w) $marker
    proc ::$w {command args} [string map [list REAL ::lanchat::real$w WIDGET $w] {
        switch -- $command {
            insert - delete - replace { return }
            see - scan { tailcall ::lanchat::scrolled_by_user WIDGET $command $args }
            yview {
                if {[llength $args]} { tailcall ::lanchat::scrolled_by_user WIDGET $command $args }
            }
        }
        tailcall REAL $command {*}$args
    }]
    bindtags $w [linsert [bindtags $w] 2 BINDTAG]
    bind $w <Destroy> [list ::lanchat::forget $w]
    return ::lanchat::real$w
}
proc ::lanchat::forget {w} {
    catch {rename ::$w {}}
    unset -nocomplain ::lanchat::following($w) ::lanchat::marker($w) ::lanchat::older_asked($w) \
        ::lanchat::trimmed($w)
}
# Someone other than these procs moved the view (scrollbar, wheel, keys, find): it follows
# from now on exactly when the end is on screen. Skipped while hidden (another tab), where
# nothing the user sees moved and Tk's layout is not the one shown later.
proc ::lanchat::scrolled_by_user {w command arguments} {
    set result [::lanchat::real$w $command {*}$arguments]
    if {[winfo viewable $w]} {
        follow $w [at_end $w]
    }
    return $result
}
# Whether the last line is wholly on screen, in pixels (above the bottom padding).
proc ::lanchat::at_end {w} {
    set real ::lanchat::real$w
    set info [$real dlineinfo end-1c]
    set inside [expr {[$real cget -pady] + [$real cget -borderwidth] + [$real cget -highlightthickness]}]
    expr {$info ne "" && [lindex $info 1] + [lindex $info 3] <= [winfo height $w] - $inside}
}
proc ::lanchat::follow {w on} {
    set ::lanchat::following($w) $on
    if {$on} {
        set marker $::lanchat::marker($w)
        if {[winfo manager $marker] ne ""} {
            grid remove $marker
        }
    }
}
# A layout change (a resize; the pane shown again, which the pane binds to <Map> of its
# frame, as a notebook maps the frame and not the text): a following view keeps the end on screen.
proc ::lanchat::keep_end {w} {
    if {[info exists ::lanchat::following($w)] && $::lanchat::following($w)} {
        ::lanchat::real$w see end
    }
}
bind BINDTAG <Configure> {::lanchat::keep_end %W}
# Appends text+tags pairs, trims to `cap` lines, and scrolls to the end if the view follows;
# returns whether it does (if not, Python shows the marker).
#
# Two more savings, both measured (CPU time, 400 lines into a full 5,000-line transcript):
# - While Tk holds the layout of the lines on screen (it does after every redraw and every
#   `see`), every insert operation (one per text+tags pair) walks it and lays out the last
#   line on screen again: 7.6 ms for the 400 lines, against 2.3 ms without it. Tagging the
#   lines on screen with a tag that affects geometry (and untagging them) drops that layout
#   in 0.05 ms; it is redone at the next redraw anyway (when following, the view moves to
#   the new end). Skipped for a line or two, where it would save less than it costs.
# - The "line" tag (margins, spacing) goes on the whole batch at once: one tag application
#   instead of one per segment.
#
# Our own messages still sending are found again by a mark, pend:<id>, at their start (the
# `pending` ids, in the order of the batch, name the time stamps tagged "newpend"). A mark
# rather than a tag per message: Tk's delete walks every tag there is, so with a pasted
# thousand messages each under its own tag, every later delete cost milliseconds.
proc ::lanchat::append_lines {w cap pending args} {
    set real ::lanchat::real$w
    set follow $::lanchat::following($w)
    if {[llength $args] >= $::lanchat::relayout_from && [winfo ismapped $w]} {
        set shown [list [$real index @0,0] [$real index "@0,[winfo height $w] +1 lines"]]
        $real tag add relayout {*}$shown
        $real tag remove relayout {*}$shown
    }
    set first [$real index end-1c]
    ::lanchat::emoji::insert $real end-1c {*}$args
    $real tag add line $first end-1c
    if {[llength $pending]} {
        foreach id $pending {start end} [$real tag ranges newpend] {
            $real mark set pend:$id $start
            $real mark gravity pend:$id left
        }
        $real tag remove newpend $first end
    }
    # Every line ends with a newline, so end-1c sits on an empty line after the last one.
    set lines [expr {[lindex [split [$real index end-1c] .] 0] - 1}]
    if {$lines > $cap} {
        set cut [expr {$lines - $cap + 1}].0
        forget_marks $real 1.0 $cut
        $real delete 1.0 $cut
        set ::lanchat::trimmed($w) 1
    }
    if {$follow} {
        $real see end
    }
    return $follow
}
# Unsets the pend:<id> marks from `from` up to `to` (text about to be deleted).
proc ::lanchat::forget_marks {real from to} {
    set mark [$real mark next $from]
    while {$mark ne "" && [$real compare $mark < $to]} {
        set next [$real mark next $mark]
        if {[string match pend:* $mark]} {
            $real mark unset $mark
        }
        set mark $next
    }
}
# The text's -yscrollcommand: move the scrollbar; once the end is on screen (the window
# grew, say), follow again.
#
# At the top, it asks for older lines (`gui.older_pages`), once until they came: an idle
# call of ::lanchat::older_wanted, when that command exists.
proc ::lanchat::scrolled {w scrollbar first last} {
    $scrollbar set $first $last
    if {$first == 0 && ![info exists ::lanchat::older_asked($w)]
            && [llength [info commands ::lanchat::older_wanted]]} {
        set ::lanchat::older_asked($w) 1
        after idle [list ::lanchat::older_wanted $w]
    }
    if {[info exists ::lanchat::following($w)] && !$::lanchat::following($w)
            && [winfo viewable $w] && [at_end $w]} {
        follow $w 1
    }
}
# Settles our own message `id` (marked pend:<id>): its "sending" mark becomes `mark`
# (tagged `marktags`), `stamp` (if not empty) replaces its time of day, and `bodytag` (if
# not empty) goes on its text. One call per acknowledgement. Returns whether it is here.
# With `again` (not empty) it can be settled once more under that id (a message held for a
# member who is away is marked "waiting", then "delivered").
proc ::lanchat::settle {w id mark marktags stamp bodytag {again {}}} {
    set real ::lanchat::real$w
    if {[catch {$real index pend:$id} first]} {
        return 0
    }
    $real mark unset pend:$id
    if {$again ne ""} {
        $real mark set pend:$again $first
        $real mark gravity pend:$again left
    }
    # The message runs to the next line's time stamp (a message may hold newlines).
    set time [$real tag nextrange time $first]
    set next [$real tag nextrange time [lindex $time 1]]
    set last [expr {$next eq "" ? [$real index end-1c] : [lindex $next 0]}]
    $real tag remove pending $first $last
    set shown [$real tag nextrange mark [lindex $time 1] $last]
    if {$shown ne ""} {
        lassign $shown from to
        set tags [$real tag names $from]
        $real insert $to $mark [concat [lsearch -all -inline -not -exact $tags mark] $marktags]
        $real delete $from $to
        set last $from
    }
    if {$bodytag ne ""} {
        $real tag add $bodytag [lindex $time 1] $last
    }
    if {$stamp ne "" && [$real get {*}$time] ne $stamp} {
        $real insert [lindex $time 1] $stamp [$real tag names $first]
        $real delete {*}$time
    }
    return 1
}
# Forgets every pend:<id> mark (the transcript was cleared).
proc ::lanchat::forget_all_marks {w} {
    set real ::lanchat::real$w
    unset -nocomplain ::lanchat::trimmed($w)
    foreach mark [$real mark names] {
        if {[string match pend:* $mark]} {
            $real mark unset $mark
        }
    }
}
"""


def tcl_source() -> str:
    """The helpers with this module's names filled in (evaluated once per interpreter)."""
    return TCL_HELPERS.replace("RELAYOUT_FROM", str(RELAYOUT_FROM)).replace("BINDTAG", BINDTAG)
