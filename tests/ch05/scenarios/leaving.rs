//! Leaving: `exit` (as sent, not as cleaned) is answered with `bye NAME`, and every way out
//! (exit, end of file, a reset, a line too long) gives the others the same `* NAME left` and
//! the console the same lines.

use harness::Lab;
use rstest::rstest;

use super::CH;
use super::support::{self, PAGE, Way, join};

#[test]
fn exit_is_answered_with_bye_and_the_connection_closes() {
    let lab = Lab::at(&CH, PAGE, "Protocol state per connection");
    lab.hint("`exit` (spaces around it ignored) ends the session: send `bye NAME`, then close");
    let server = lab.start_server(&[]);
    let (mut alice, mut bob) = support::alice_and_bob(&server);
    bob.send_line("  exit  ");
    bob.expect_line("bye bob");
    bob.expect_closed();
    alice.expect_line("* bob left");
}

#[test]
fn exit_with_a_control_character_inside_is_chat_not_a_goodbye() {
    let lab = Lab::at(&CH, PAGE, "Protocol state per connection");
    lab.hint(
        "recognise `exit` (and the commands) in the line as the client sent it, spaces around \
         it ignored, before cleaning it: `ex\\0it` is not `exit`, it is chat, and only the \
         relayed copy is cleaned",
    );
    let server = lab.start_server(&[]);
    let (mut alice, mut bob) = support::alice_and_bob(&server);
    bob.send_line("ex\0it");
    alice.expect_line("[bob] exit");
    bob.send_line("/who");
    bob.expect_line("online: alice, bob");
}

#[rstest]
#[case::by_exit(Way::Exit)]
#[case::by_end_of_input(Way::EndOfInput)]
#[case::by_a_reset(Way::Reset)]
#[case::by_a_line_too_long(Way::LineTooLong)]
fn every_way_out_tells_the_others_name_left(#[case] way: Way) {
    let lab = Lab::at(&CH, PAGE, "Why exit alone was never enough");
    lab.hint(
        "a client that vanishes never says `exit`: announce `* NAME left` where the session \
         ends, whatever ended it (a guard's Drop runs on every path, even a panic)",
    );
    let mut server = lab.start_server(&[]);
    let (mut alice, mut bob) = support::alice_and_bob(&server);
    let mut carol = join(&server, "carol", "alice, bob, carol");
    alice.expect_line("* carol joined");
    bob.expect_line("* carol joined");
    let bob_peer = bob.local_addr();
    let _half_closed = support::leave(bob, "bob", way);
    alice.expect_line("* bob left");
    carol.expect_line("* bob left");
    lab.section("Cleanup on every path");
    support::expect_console(&lab, &mut server, &format!("left bob ({bob_peer})"));
    support::expect_console(&lab, &mut server, "online: alice, carol");
    support::expect_disconnected(&mut server, &[bob_peer]);
    // The room still works for those who stayed, and has forgotten bob.
    carol.send_line("/who");
    carol.expect_line("online: alice, carol");
    carol.send_line("still here");
    alice.expect_line("[carol] still here");
}

#[test]
fn a_client_that_leaves_at_the_prompt_is_never_announced() {
    let lab = Lab::at(&CH, PAGE, "Protocol state per connection");
    lab.hint("only a client that had a name joined the room, so only it can leave it");
    let mut server = lab.start_server(&[]);
    let mut alice = join(&server, "alice", "alice");
    let unnamed = support::connect(&server, "U");
    let unnamed_peer = unnamed.local_addr();
    unnamed.vanish();
    support::expect_disconnected(&mut server, &[unnamed_peer]);
    // A `* ... left` for U would arrive before this.
    let _bob = join(&server, "bob", "alice, bob");
    alice.expect_line("* bob joined");
}
