//! Choosing a username: the prompt, the three refusals and the prompt again, names unique
//! ignoring case, and a name free again as soon as its owner is gone.

use std::time::Duration;

use harness::Lab;
use rstest::rstest;

use super::CH;
use super::support::{self, PAGE, PROMPT, Way, connect, join};

const EMPTY: &str = "error: username can't be empty";
const INVALID: &str = "error: username may only contain letters, digits, '_' and '-' (max 32)";

#[test]
fn a_new_connection_is_asked_for_a_username() {
    let lab = Lab::at(&CH, PAGE, "Protocol state per connection");
    lab.hint("send `Enter username:` as a line as soon as the connection is accepted");
    let server = lab.start_server(&[]);
    let _a = connect(&server, "A");
}

#[rstest]
#[case::empty("")]
#[case::only_spaces("   ")]
fn an_empty_username_is_refused_and_asked_again(#[case] answer: &str) {
    let lab = Lab::at(&CH, PAGE, "Validation at the boundary");
    lab.hint("trim the answer; an empty name gets `error: username can't be empty`, then the prompt again");
    let server = lab.start_server(&[]);
    let mut a = connect(&server, "A");
    a.send_line(answer);
    a.expect_line(EMPTY);
    a.expect_line(PROMPT);
    a.send_line("alice");
    a.expect_line("welcome alice! online: alice");
}

#[rstest]
#[case::space_inside("bob smith")]
#[case::escape_sequence("\x1b[31mbob")]
#[case::bell("bob\x07")]
#[case::tab_inside("bob\tsmith")]
#[case::punctuation("bob!")]
#[case::brackets("[alice]")]
#[case::not_ascii("zoë")]
#[case::thirty_three_characters("abcdefghijklmnopqrstuvwxyz0123456")]
fn an_invalid_username_is_refused_and_asked_again(#[case] answer: &str) {
    let lab = Lab::at(&CH, PAGE, "Validation at the boundary");
    lab.hint(
        "accept 1 to 32 ASCII letters, digits, '_' and '-' and nothing else: a name with spaces \
         or escape sequences would let one user pass for another or paint on their screen",
    );
    let server = lab.start_server(&[]);
    let mut a = connect(&server, "A");
    a.send_line(answer);
    a.expect_line(INVALID);
    a.expect_line(PROMPT);
    a.send_line("alice");
    a.expect_line("welcome alice! online: alice");
}

#[test]
fn a_name_of_32_characters_with_spaces_around_it_is_accepted() {
    let lab = Lab::at(&CH, PAGE, "Validation at the boundary");
    lab.hint("trim spaces around the answer before checking it; 32 characters is still allowed");
    let server = lab.start_server(&[]);
    let name = "Ab_-0123456789abcdefghijklmnopqr";
    assert_eq!(name.len(), 32, "the test's name has 32 characters");
    let mut a = connect(&server, "A");
    a.send_line(&format!("  {name}  "));
    a.expect_line(&format!("welcome {name}! online: {name}"));
}

#[test]
fn a_taken_name_is_refused_ignoring_case_and_asked_again() {
    let lab = Lab::at(&CH, PAGE, "Validation at the boundary");
    lab.hint(
        "compare names with `eq_ignore_ascii_case`, and check and add under one lock so two \
         clients cannot both take a name",
    );
    let server = lab.start_server(&[]);
    let _alice = join(&server, "alice", "alice");
    let mut b = connect(&server, "B");
    b.send_line("alice");
    b.expect_line("error: username 'alice' is already taken");
    b.expect_line(PROMPT);
    b.send_line("ALICE");
    b.expect_line("error: username 'ALICE' is already taken");
    b.expect_line(PROMPT);
    b.send_line("bob");
    b.expect_line("welcome bob! online: alice, bob");
}

#[rstest]
#[case::after_exit(Way::Exit)]
#[case::after_end_of_input(Way::EndOfInput)]
#[case::after_a_reset(Way::Reset)]
#[case::after_a_line_too_long(Way::LineTooLong)]
fn a_name_is_free_again_once_its_owner_is_gone(#[case] way: Way) {
    let lab = Lab::at(&CH, PAGE, "Cleanup on every path");
    lab.hint(
        "remove the client from the room on every way out, not only after `exit`: a guard \
         whose Drop removes it runs however the session ends",
    );
    let mut server = lab.start_server(&[]);
    let (mut alice, bob) = support::alice_and_bob(&server);
    let bob_peer = bob.local_addr();
    let _half_closed = support::leave(bob, "bob", way);
    alice.expect_line("* bob left");
    support::expect_disconnected(&mut server, &[bob_peer]);
    let _new_bob = join(&server, "bob", "alice, bob");
    alice.expect_line("* bob joined");
}

#[test]
fn exit_at_the_prompt_answers_bye_and_closes() {
    let lab = Lab::at(&CH, PAGE, "Protocol state per connection");
    lab.hint("`exit` (spaces around it ignored) at the username prompt is not a name: answer `bye` and close");
    let server = lab.start_server(&[]);
    let mut a = connect(&server, "A");
    a.send_line("  exit ");
    a.expect_line("bye");
    a.expect_closed();
}

#[test]
fn a_client_still_choosing_a_name_gets_no_chat_and_no_notices() {
    let lab = Lab::at(&CH, PAGE, "Protocol state per connection");
    lab.hint(
        "only clients that have chosen a name are in the room: a connection at the prompt is \
         not sent joins, leaves or chat",
    );
    let server = lab.start_server(&[]);
    let mut alice = join(&server, "alice", "alice");
    let mut waiting = connect(&server, "W");
    let mut bob = join(&server, "bob", "alice, bob");
    alice.expect_line("* bob joined");
    alice.send_line("hello room");
    bob.expect_line("[alice] hello room");
    bob.send_line("exit");
    bob.expect_line("bye bob");
    alice.expect_line("* bob left");
    // Anything the room sent W would arrive before the answer to its name.
    waiting.send_line("carol");
    waiting.expect_line("welcome carol! online: alice, carol");
}

/// The server's write deadline: a notice to a member that stopped reading may take this long.
const SERVER_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

#[test]
fn clients_asking_for_one_name_at_the_same_instant_do_not_all_get_it() {
    let lab = Lab::at(&CH, PAGE, "Validation at the boundary");
    lab.hint(
        "two clients got the same name: check that the name is free and add the client in one \
         critical section, not a check first and the lock later. The check passed for both \
         while another join was being announced, and both were added after it",
    );
    let server = lab.start_server(&[]);
    // Five clients in all: chapter 6's default cap.
    let (stalled, flooder) = support::stall_a_member(&lab, &server);
    // Its notice to `stalled` keeps this join being announced for up to 2 s: long enough for
    // the askers' names to arrive meanwhile, whatever the machine's speed.
    let blocker = join(&server, "blocker", "stalled, flooder, blocker");
    let mut askers = [connect(&server, "A1"), connect(&server, "A2")];
    lab.step("A1 and A2: ask for the name \"sam\" at the same instant, while blocker's join is announced");
    let answers = harness::all_at_once(askers.iter_mut(), |conn| {
        conn.send_line("sam");
        conn.read_line_bytes(harness::timeout() + SERVER_WRITE_TIMEOUT)
            .map(|line| String::from_utf8_lossy(&line).into_owned())
    });
    let mut welcomed = Vec::new();
    for (conn, answer) in askers.iter().zip(answers) {
        let who = conn.name();
        match answer {
            Ok(line) if line.starts_with("welcome sam! ") => welcomed.push(who),
            Ok(line) if line == "error: username 'sam' is already taken" => {}
            Ok(line) => lab.fail(
                &format!("{who} is welcomed as sam, or told the name is taken"),
                &format!("{who} received {line:?}"),
            ),
            Err(err) => lab.fail(
                &format!("{who} is welcomed as sam, or told the name is taken"),
                &format!("{err:?}"),
            ),
        }
    }
    if welcomed.len() != 1 {
        lab.fail(
            "exactly one of the two clients asking for \"sam\" at the same instant is welcomed",
            &format!("welcomed as sam: {welcomed:?}"),
        );
    }
    lab.step(format!(
        "{}: welcomed as sam; the other was told the name is taken",
        welcomed[0]
    ));
    drop((stalled, flooder, blocker));
}
