//! The console is best effort: one that nobody reads (a full pipe) may hold up joins and
//! leaves, whose lines it prints, but never chat, which prints nothing. Chapter 10's loop does
//! not rerun this: one blocked write stops a loop, as its page explains.

use harness::Lab;

use super::CH;
use super::support::{self, PAGE, PROMPT};

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "holding a server's console full needs Linux's /proc"
)]
fn chat_goes_on_while_the_console_is_stuck() {
    let lab = Lab::at(&CH, PAGE, "The console keeps the room's order");
    lab.hint(
        "a console write blocks when nobody reads the console (a full pipe): print the `joined` \
         and `left` lines after letting go of the member list that every chat line needs, and \
         keep their order with a second lock, held from before the list is let go until the \
         line is printed",
    );
    let mut server = lab.start_server_with_holdable_console(&support::room_for("8"));
    let (mut alice, mut bob) = support::alice_and_bob(&server);
    let mut carol = server.connect("carol");
    carol.expect_line(PROMPT);
    // Its `connected` line is out: the console is quiet before the test holds it.
    server.expect_stdout_line(&format!("connected {}", carol.local_addr()));
    let Some(console) = server.hold_console() else {
        lab.step("(this system does not show what a server's threads are doing: nothing checked)");
        return;
    };
    carol.send_line("carol");
    console.expect_printing("carol's `joined` line");
    alice.send_line("still chatting");
    let chat = "[alice] still chatting";
    let joined = "* carol joined";
    // A server that queues the notice before printing may deliver it first.
    let first = bob
        .expect_line_matching(&format!("{chat:?}, while the console is stuck"), |line| {
            line == chat || line == joined
        });
    if first == joined {
        bob.expect_line(chat);
    }
    drop(console);
    carol.expect_line("welcome carol! online: alice, bob, carol");
    if first != joined {
        bob.expect_line(joined);
    }
}
