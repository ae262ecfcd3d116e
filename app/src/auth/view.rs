//! Signing in, the user menu, the lock screen and its idle timer, and one's own account.

#[cfg(feature = "hydrate")]
use super::lock_screen;
use super::{
    my_sessions, ChangePassword, CurrentUser, EndMySession, LockScreen as LockScreenFn, SetPin, SignIn,
    SignOut, StartWallBoard, Unlock,
};
use crate::error::AppError;
use crate::i18n::use_i18n;
use crate::shell::{action_url, load_page, loaded, submit_with, use_session, ActionFeedback};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

/// The sign-in form. After signing in, the browser loads the page it was going to (or the
/// person's first screen) afresh.
#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let next = move || {
        query
            .read()
            .get("next")
            .filter(|n| super::safe_next(n))
            .unwrap_or_default()
    };
    let action = ServerAction::<SignIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(destination)) = action.value().get() {
            load_page(&destination);
        }
    });
    // Shown once the server says this password was set by someone else.
    let must_choose = Memo::new(move |was: Option<&bool>| match action.value().get() {
        Some(Err(AppError::Invalid(fields))) => fields.iter().any(|f| f.field == "new_password"),
        _ => was.copied().unwrap_or(false),
    });
    let on_submit = submit_with(action, |f| SignIn {
        username: f.text("username"),
        password: f.text("password"),
        next: Some(f.text("next")).filter(|n| !n.is_empty()),
        new_password: f.text("new_password"),
    });
    view! {
        <section class="page sign-in" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().sign_in_title}</h1>
            <form class="stacked-form" method="post" action={action_url::<SignIn>()} on:submit=on_submit>
                <input type="hidden" name="next" value=next/>
                <label>
                    <span>{move || i18n.t().username}</span>
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        maxlength="64"
                    />
                </label>
                <label>
                    <span>{move || i18n.t().password}</span>
                    <input type="password" name="password" autocomplete="current-password" required maxlength="128"/>
                </label>
                <Show when=move || must_choose.get()>
                    <p class="notice">{move || i18n.t().new_password_required_intro}</p>
                    <label>
                        <span>{move || i18n.t().new_password}</span>
                        <input type="password" name="new_password" autocomplete="new-password" required minlength="10" maxlength="128"/>
                    </label>
                </Show>
                <button type="submit" class="button primary">{move || i18n.t().sign_in}</button>
                <ActionFeedback action/>
            </form>
        </section>
    }
}

/// The signed-in person's name, with the lock (what a tablet left for a moment needs).
#[component]
pub fn UserMenu() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let lock = ServerAction::<LockScreenFn>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = lock.value().get() {
            session.set_locked(true);
        }
    });
    move || {
        let user = session.user()?;
        if user.wall_board {
            let by = user.display_name.clone();
            return Some(Either::Left(view! {
                <div class="user-menu">
                    <span class="user-name wall-board-badge" data-username=user.username.clone()>
                        {move || (i18n.t().wall_board_badge)(&by)}
                    </span>
                </div>
            }));
        }
        let locked = user.locked;
        Some(Either::Right(view! {
            <div class="user-menu">
                <span class="user-name" data-username=user.username.clone()>{user.display_name.clone()}</span>
                {(!locked).then(|| view! {
                    <form method="post" action={action_url::<LockScreenFn>()} on:submit={submit_with(lock, |_| LockScreenFn {})}>
                        <button type="submit" class="button secondary">{move || i18n.t().lock_screen}</button>
                    </form>
                })}
            </div>
        }))
    }
}

/// The signed-in person's account and sign-out, in the top bar's menu.
#[component]
pub fn UserMenuItems() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let sign_out_action = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if sign_out_action.value().get().is_some() {
            load_page("/sign-in");
        }
    });
    move || {
        let user = session.user()?;
        // A wall board has no account page of its own; signing out ends wall board mode.
        let (account, wall_board) = (!user.locked && !user.wall_board, user.wall_board);
        Some(view! {
            {account.then(|| view! { <a class="button secondary" href="/account">{move || i18n.t().my_account}</a> })}
            <form method="post" action={action_url::<SignOut>()} on:submit={submit_with(sign_out_action, |_| SignOut {})}>
                <button type="submit" class="button secondary">
                    {move || if wall_board { i18n.t().wall_board_leave } else { i18n.t().sign_out }}
                </button>
            </form>
        })
    }
}

/// What a locked tablet shows: whose session it is and how to get back in. Nothing of
/// the page behind it is in the document.
#[component]
pub fn LockScreen() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let location = use_location();
    let action = ServerAction::<Unlock>::new();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) => session.set_locked(false),
        Some(Err(AppError::Unauthenticated)) => load_page("/sign-in"),
        _ => {}
    });
    let switch_user = move || format!("/sign-in?next={}", location.pathname.get());
    let user = session.user_now().unwrap_or_else(CurrentUser::nobody);
    let label = if user.has_pin {
        i18n.t().pin
    } else {
        i18n.t().password
    };
    let (mode, autocomplete) = if user.has_pin {
        ("numeric", "off")
    } else {
        ("text", "current-password")
    };
    let name = user.display_name.clone();
    view! {
        <section class="page lock-screen" aria-labelledby="lock-title">
            <h1 id="lock-title">{move || i18n.t().locked_title}</h1>
            <p class="locked-user">{move || (i18n.t().locked_for)(&name)}</p>
            <form class="stacked-form" method="post" action={action_url::<Unlock>()} on:submit={submit_with(action, |f| Unlock { secret: f.text("secret") })}>
                <label>
                    <span>{label}</span>
                    <input type="password" name="secret" inputmode=mode autocomplete=autocomplete required maxlength="128"/>
                </label>
                <button type="submit" class="button primary">{move || i18n.t().unlock}</button>
                <ActionFeedback action/>
            </form>
            <p>
                <a class="button secondary" href=switch_user>{move || i18n.t().switch_user}</a>
            </p>
        </section>
    }
}

/// Locks the screen after the configured time without a touch or a key, and keeps the
/// server's idle clock in step while the person is working. In the browser only.
#[component]
pub fn IdleLock() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use std::time::Duration;
        let session = use_session();
        let last_input = StoredValue::new(js_sys::Date::now());
        let last_report = StoredValue::new(js_sys::Date::now());
        let touched = move || last_input.set_value(js_sys::Date::now());
        let handles = [
            window_event_listener(leptos::ev::pointerdown, move |_| touched()),
            window_event_listener(leptos::ev::keydown, move |_| touched()),
            window_event_listener(leptos::ev::wheel, move |_| touched()),
        ];
        let timer = set_interval_with_handle(
            move || {
                // Nobody touches a wall board: it never locks itself (nor does the server).
                let Some(user) = session.user_now().filter(|u| !u.wall_board) else {
                    return;
                };
                let now = js_sys::Date::now();
                if user.locked {
                    last_input.set_value(now);
                    return;
                }
                let idle_ms = f64::from(user.idle_lock_seconds) * 1000.0;
                if now - last_input.get_value() >= idle_ms {
                    session.set_locked(true);
                    leptos::task::spawn_local(async move {
                        let _ = lock_screen().await;
                    });
                } else if last_input.get_value() > last_report.get_value()
                    && now - last_report.get_value() > (idle_ms / 3.0).min(30_000.0)
                {
                    // Someone touched the screen or typed: tell the server, whose idle
                    // clock hears of nothing else the screen does by itself (reloads after
                    // live changes, reconnections), and learn if the session was ended
                    // from elsewhere meanwhile.
                    last_report.set_value(now);
                    leptos::task::spawn_local(async move {
                        match super::report_activity().await {
                            Ok(state) if state.user.is_none() => load_page("/sign-in"),
                            Ok(state) if state.user.as_ref().is_some_and(|u| u.locked) => {
                                session.set_locked(true)
                            }
                            _ => {}
                        }
                    });
                }
            },
            Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            for handle in handles {
                handle.remove();
            }
            if let Some(timer) = timer {
                timer.clear();
            }
        });
    }
}

/// One's own account: open sessions (end any), PIN, password.
#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let end = ServerAction::<EndMySession>::new();
    let pin = ServerAction::<SetPin>::new();
    let password = ServerAction::<ChangePassword>::new();
    let sessions = Resource::new(
        move || (end.version().get(), password.version().get()),
        |_| my_sessions(),
    );
    view! {
        <section class="page account" aria-labelledby="page-title">
            <h1 id="page-title">{move || i18n.t().my_account}</h1>
            <h2>{move || i18n.t().sessions_title}</h2>
            <ActionFeedback action=end/>
            {loaded(sessions, move |list| view! { <SessionList sessions=list end/> })}
            <h2>{move || i18n.t().pin_title}</h2>
            <p class="hint">{move || i18n.t().pin_hint}</p>
            <form class="stacked-form" method="post" action={action_url::<SetPin>()} on:submit={submit_with(pin, |f| SetPin { password: f.text("password"), pin: f.text("pin") })}>
                <label>
                    <span>{move || i18n.t().new_pin}</span>
                    <input type="password" name="pin" inputmode="numeric" autocomplete="off" required minlength="4" maxlength="8" pattern="[0-9]{4,8}"/>
                </label>
                <label>
                    <span>{move || i18n.t().current_password}</span>
                    <input type="password" name="password" autocomplete="current-password" required maxlength="128"/>
                </label>
                <button type="submit" class="button primary">{move || i18n.t().save}</button>
                <ActionFeedback action=pin done=|t| t.saved/>
            </form>
            <h2>{move || i18n.t().password_title}</h2>
            <form class="stacked-form" method="post" action={action_url::<ChangePassword>()} on:submit={submit_with(password, |f| ChangePassword { current: f.text("current"), new_password: f.text("new_password") })}>
                <label>
                    <span>{move || i18n.t().current_password}</span>
                    <input type="password" name="current" autocomplete="current-password" required maxlength="128"/>
                </label>
                <label>
                    <span>{move || i18n.t().new_password}</span>
                    <input type="password" name="new_password" autocomplete="new-password" required minlength="10" maxlength="128"/>
                </label>
                <button type="submit" class="button primary">{move || i18n.t().save}</button>
                <ActionFeedback action=password done=|t| t.saved/>
            </form>
            <WallBoardSetUp/>
        </section>
    }
}

/// For those who may: turn the screen they are signed in on into a wall board. The page
/// is loaded again once it is one, under the wall board's own session.
#[component]
pub fn WallBoardSetUp() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let start = ServerAction::<StartWallBoard>::new();
    Effect::new(move |_| {
        if let Some(Ok(path)) = start.value().get() {
            load_page(&path);
        }
    });
    let may = session
        .user_now()
        .is_some_and(|user| user.can(super::Capability::SetUpWallBoard));
    may.then(|| {
        view! {
            <section class="wall-board-setup" aria-labelledby="wall-board-title">
                <h2 id="wall-board-title">{move || i18n.t().wall_board_title}</h2>
                <p class="hint">{move || i18n.t().wall_board_explained}</p>
                <ActionFeedback action=start/>
                <form method="post" action={action_url::<StartWallBoard>()} on:submit={submit_with(start, |_| StartWallBoard {})}>
                    <button type="submit" class="button secondary">{move || i18n.t().wall_board_start}</button>
                </form>
            </section>
        }
    })
}

/// Signed-in browsers, each with a button that ends it.
#[component]
pub fn SessionList(sessions: Vec<super::SessionSummary>, end: ServerAction<EndMySession>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="session-list">
            {sessions
                .into_iter()
                .map(|s| {
                    let id = s.id;
                    view! {
                        <li class="session" data-current=s.current.to_string()>
                            <span class="session-device">{s.device}</span>
                            <span class="session-address">{s.address}</span>
                            {s.current.then(|| view! { <strong>{move || i18n.t().this_device}</strong> })}
                            {s.locked.then(|| view! { <span class="badge">{move || i18n.t().locked_badge}</span> })}
                            {s.wall_board.then(|| view! { <span class="badge">{move || i18n.t().wall_board_title}</span> })}
                            <form method="post" action={action_url::<EndMySession>()} on:submit={submit_with(end, move |_| EndMySession { session_id: id })}>
                                <input type="hidden" name="session_id" value=id.to_string()/>
                                <button type="submit" class="button secondary">{move || i18n.t().end_session}</button>
                            </form>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
