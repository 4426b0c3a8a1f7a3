"""The English catalogue: every field of ``Texts``, translated.

Readers and editors whose Telegram language is English get it (the per-person language
choice); the channel and everything not addressed to one person stay in the newsroom's
LANGUAGE.  A test of the catalogues checks that every field is translated and keeps its
placeholders.
"""

from __future__ import annotations

from bot.texts import Texts

EN = Texts(
    # --- channel post and full text ---
    read_more_button="Read in full",
    source_label="Source: {source}",
    ellipsis="…",
    dateline_separator=" — ",
    published_format="%d.%m.%Y, %H:%M",
    # --- readers ---
    greeting="Hello! Here you can read the full texts of our channel's articles.",
    latest_headlines="Latest articles:",
    no_articles_yet="No articles have been published yet.",
    article_not_found=(
        "Could not find this article: the link may be outdated or broken. "
        "Send /start to see the latest articles."
    ),
    reader_help=(
        "Tap “Read in full” under a post in the channel and the bot will send the full text "
        "here. /start — the latest articles."
    ),
    too_many_messages=(
        "Too many messages at once: I answer about one a second and skipped the rest. "
        "Wait a little and send again what you need."
    ),
    too_many_presses="Too fast: press again in a couple of seconds.",
    # --- access ---
    editors_only="This command is for editors only.",
    forwarded_not_command=(
        "Commands in forwarded messages are not run. To make the author an editor, "
        "reply to the forwarded message with /addeditor."
    ),
    article_open_in_bot="The full text is in your private chat with the bot.",
    private_only="Write to me in a private chat: I do not take commands in groups and channels.",
    # --- editors: help and menu ---
    editor_help=(
        "Editor commands:\n"
        "/new — a new article (step by step)\n"
        "/import — import a page's text (the text on the next lines, as a reply to a "
        "message with the text, or a .txt file with the caption /import)\n"
        "/drafts — drafts, /published — published articles and their readers\n"
        "/edit <number> — replace the text (the new text on the next lines); "
        "/summary, /tags, /credit <number> <value> — single fields; "
        "/restore <number> <version> — bring back an earlier version (listed by /history)\n"
        "/photo <number> — as a photo caption: attach the photo to the draft\n"
        "/publish <number> — publish to the channel\n"
        "/schedule <number> <YYYY-MM-DD HH:MM> — schedule, /unschedule <number> — cancel, "
        "/scheduled — the list\n"
        "/poll — a poll in the channel (the question and the options, each on a new line)\n"
        "/addpoll <number> — a poll under a draft's post\n"
        "/closepoll <poll number> — close a poll, /results <number> — its results\n"
        "/delete <number> — withdraw a published article\n"
        "/history <number> — who did what to an article, and when; /stats [number] — statistics\n"
        "/digest — the evening digest as it would be now\n"
        "/feed add <url> [N | auto] — a site's feed (new items become drafts for review), "
        "/feed remove <number>, /feeds — the list; /reject <number> — reject a draft; "
        "/apply <number> — apply the site's correction\n"
        "/search <words>, /top — search and the most read\n"
        "/editors, /addeditor, /removeeditor — editors (for admins)\n"
        "/cancel — leave the dialog"
    ),
    cmd_start="Latest articles",
    cmd_help="Help",
    cmd_new="New article",
    cmd_import="Import a page's text",
    cmd_drafts="Drafts",
    cmd_publish="Publish a draft: /publish <number>",
    cmd_photo="Photo for a draft: caption /photo <number>",
    cmd_cancel="Leave the dialog",
    cmd_poll="Poll in the channel",
    cmd_addpoll="Poll under a draft's post: /addpoll <number>",
    cmd_edit="Edit an article: /edit <number> and the new text",
    cmd_restore="Bring back a version: /restore <number> <version>",
    cmd_unschedule="Cancel a scheduled publication",
    cmd_closepoll="Close a poll: /closepoll <number>",
    cmd_results="Poll results: /results <number>",
    # --- editors: drafts and previews ---
    draft_actions=(
        "Draft #{id}: “{title}”\n"
        "/publish {id} — publish now\n"
        "/schedule {id} YYYY-MM-DD HH:MM — schedule\n"
        "/photo {id} — as a photo caption, to attach the photo (or reply to the preview "
        "with a photo)"
    ),
    drafts_header="Drafts and articles waiting for an action:",
    drafts_empty="No drafts. /new — a new article, /import — import a text.",
    drafts_line="#{id} · {status} · {title}",
    published_header="Latest publications (readers of the full text):",
    published_line="#{id} · {when} · {reads} readers · {title}\n{link}",
    published_empty="Nothing has been published yet.",
    cmd_published="Published articles and their readers",
    status_names=(
        ("draft", "draft"),
        ("scheduled", "scheduled"),
        ("publishing", "publishing"),
        ("published", "published"),
        ("failed", "publishing failed"),
        ("uncertain", "status unknown"),
        ("withdrawn", "withdrawn"),
        ("rejected", "rejected"),
        ("archived", "from the site's archive"),
    ),
    # --- editors: import ---
    import_usage=(
        "Send the page's text on the lines after the command:\n"
        "/import\n<text>\n\nor reply /import to a message with the text, "
        "or send a .txt file with the caption /import."
    ),
    import_errors=(
        ("empty", "The text is empty: nothing to import."),
        (
            "no_title",
            "No title found: the first line of the text (after the date) must be the title.",
        ),
        ("no_body", "No article text found: there is no paragraph after the title."),
        ("too_long", "The text is too long for one article."),
    ),
    import_not_text_file="A UTF-8 encoded .txt text file is needed.",
    import_file_too_big="The file is too big: {limit} KB at most.",
    import_bad_encoding="Could not read the file: save it in UTF-8.",
    import_download_failed="Could not download the file from Telegram, please try again.",
    # --- editors: the archive (a .zip sent with /import) ---
    archive_progress="Importing the archive: {done} / {total}, {skipped} skipped",
    archive_cancel_button="Stop the import",
    archive_done=(
        "The archive is imported: {imported} articles added, {duplicates} already there, "
        "{bad} files skipped."
    ),
    archive_cancelled=(
        "The archive import stopped at {done} / {total}: {imported} articles added "
        "(they stay), {duplicates} already there, {bad} files skipped."
    ),
    archive_failed=(
        "The archive import stopped on a database error at {done} / {total}: "
        "{imported} articles added (they stay). Send the archive again: the articles "
        "already added will not come twice."
    ),
    archive_bad_heading="Files skipped:",
    archive_bad_line="{name} — {reason}",
    archive_bad_more="…and {count} more",
    archive_bad_reasons=(
        ("unsafe_name", "unsafe name (a path out of the archive)"),
        ("nested_zip", "an archive inside the archive"),
        ("too_big", "file too big"),
        ("bomb", "suspiciously highly compressed"),
        ("unreadable", "damaged or encrypted file"),
        ("not_article", "no article in the file"),
        ("encoding", "unknown encoding"),
    ),
    archive_refused=(
        ("not_zip", "This is not a zip archive, or it is damaged."),
        ("too_big", "The archive is too big: {limit} MB at most."),
        ("bomb", "The archive unpacks to too much: {limit} MB at most."),
        ("too_many", "The archive holds too many files: {limit} at most."),
        ("empty", "The archive holds no pages: .txt, .html or .htm files are needed."),
    ),
    archive_busy="Your archive import is still running: wait for it or stop it with its button.",
    archive_cancelling="Stopping the import…",
    archive_not_yours="Only the editor who started the import can stop it.",
    archive_not_running="This import has already ended.",
    # --- editors: photo ---
    photo_usage=(
        "To attach a photo to a draft, send it with the caption /photo <number> "
        "or reply to the draft's preview with the photo."
    ),
    photo_attached="Photo attached to draft #{id}.",
    photo_bad_id="Give the draft's number: /photo <number>, for example /photo 12.",
    # --- editors: publishing ---
    publish_usage="Give the draft's number: /publish <number>, for example /publish 12.",
    not_found="There is no article #{id}. The list of drafts: /drafts",
    published="Published in the channel: {link}",
    already_published="Article #{id} is already published: {link}",
    publish_in_progress="Article #{id} is being published right now, please wait.",
    publish_not_allowed="Article #{id} cannot be published now (status: {status}).",
    publish_failed="Could not publish article #{id}: {reason}. The draft is kept.",
    publish_no_rights=(
        "Could not publish article #{id}: the bot may not post in the channel {channel}. "
        "Make the bot an administrator of the channel with the right to post messages "
        "and repeat /publish {id}. The draft is kept."
    ),
    publish_uncertain=(
        "It is unknown whether article #{id} reached the channel ({reason}). Check the "
        "channel {channel}: if the post is not there — /forcepublish {id} (or /notposted "
        "{id} to take it back to drafts), if it is — /markpublished {id} <link to the post>."
    ),
    not_posted_settled="Article #{id} is marked as not posted and back in drafts: /publish {id}.",
    publish_uncertain_at_start=(
        "After a restart it is unknown whether article #{id} “{title}” was published. "
        "Check the channel {channel}: if the post is not there — /forcepublish {id}, if it "
        "is — /markpublished {id} <link to the post>."
    ),
    publish_not_saved=(
        "The publication of article #{id} “{title}” did not finish: the database did not "
        "take its outcome, and the post may already be in the channel {channel}. Check: if "
        "it is not there — /forcepublish {id} (or /notposted {id}), if it is — "
        "/markpublished {id} <link to the post>."
    ),
    markpublished_usage=(
        "Give the article's number and the link to the post: "
        "/markpublished 12 https://t.me/channel/345"
    ),
    markpublished_taken=(
        "The post {link} is already recorded for {owner}; article #{id} is unchanged. "
        "Give this article's post (or /forcepublish {id} if it is not in the channel)."
    ),
    owner_article="article #{id}",
    owner_poll="poll #{id}",
    channel_cannot_post="⚠️ The bot cannot post in the channel {channel}: {reason}",
    member_statuses=(
        ("creator", "owner"),
        ("administrator", "an administrator without the right to post"),
        ("member", "a member"),
        ("restricted", "a restricted member"),
        ("left", "not a member"),
        ("kicked", "removed from the channel"),
    ),
    failure_reasons=(
        ("telegram", "Telegram answered: “{detail}”"),
        ("no_rights", "the bot has no rights in the channel (Telegram: “{detail}”)"),
        ("not_admin", "the bot is not an administrator who can post there (status: {detail})"),
        ("flood", "Telegram asks to wait {detail} s"),
        ("no_answer", "no clear answer from Telegram ({detail})"),
        ("prepare", "the post could not be prepared ({detail})"),
        ("restart", "the bot restarted during the publication"),
        ("not_recorded", "post {detail} went out, but another one is on record"),
        ("not_saved", "post {detail} went out but is not saved in the bot's database"),
        ("taken", "the post on record (message {detail}) belongs to another article or poll"),
        ("error", "an internal error of the bot ({detail})"),
    ),
    # --- editing ---
    edit_usage=(
        "The article's new text goes on the lines after the command: /edit 12\n<text>. "
        "Single fields: /summary 12 <summary>, /tags 12 <comma-separated tags>, "
        "/credit 12 <photo credit>."
    ),
    field_usage="Format: /{command} <number> <value>, for example /{command} 12 …",
    summary_too_long="The summary is too long: {limit} characters at most.",
    edit_draft_updated="Draft #{id} updated.",
    edit_outcomes=(
        ("post_updated", "Article #{id} updated, the channel post is corrected: {link}"),
        (
            "post_not_updated",
            "Article #{id} updated (the full text is already new), but the channel post could "
            "not be changed: {reason}. The post: {link}",
        ),
        ("busy", "Article #{id} is being published right now, try again in a minute."),
        ("withdrawn", "Article #{id} was withdrawn and can no longer be edited."),
        ("no_version", "Article #{id} has no version {version}. Its versions: /history {id}."),
        ("not_editable", "Article #{id} cannot be edited: its status is “{status}”."),
    ),
    restore_usage=(
        "Give the article's number and the version's: /restore 12 3. "
        "The article's versions: /history 12."
    ),
    restore_draft_updated="Draft #{id}: version {version} is back.",
    # --- scheduling ---
    schedule_usage=(
        "Give the draft's number, the date and the time: /schedule 12 2026-12-01 09:30 "
        "(time zone: {timezone})."
    ),
    schedule_bad_date=(
        "Could not read the date “{value}”. Format: YYYY-MM-DD HH:MM, "
        "for example 2026-12-01 09:30."
    ),
    schedule_in_past="The time {when} has already passed. Give a time in the future.",
    schedule_too_far="You can schedule at most one year ahead.",
    scheduled_ok="Article #{id} will be published {when} ({timezone}). Cancel: /unschedule {id}",
    unschedule_outcomes=(
        ("unscheduled", "The publication of article #{id} is cancelled, it is a draft again."),
        ("not_scheduled", "Article #{id} is not scheduled."),
    ),
    unschedule_usage="Give the article's number: /unschedule 12",
    scheduled_header="Scheduled publications ({timezone}):",
    scheduled_line="#{id} · {when} · {title}",
    scheduled_empty="No scheduled publications.",
    scheduled_published="Scheduled article #{id} is published: {link}",
    scheduled_published_late=(
        "Scheduled article #{id} was published late (it was due at {when}, the bot was "
        "unavailable): {link}"
    ),
    cmd_schedule="Schedule: /schedule <number> <YYYY-MM-DD HH:MM>",
    cmd_scheduled="Scheduled publications",
    # --- the /new dialog ---
    new_ask_title="A new article. Send the title (one line). /cancel — cancel.",
    new_title_empty="The title is empty. Send the title as text.",
    new_title_too_long="The title is too long: {length} characters, {limit} at most.",
    new_title_multiline="The title must be a single line.",
    new_ask_text=(
        "Now the article's text: in one or several messages, each paragraph on a new line. "
        "When you are done, send /done."
    ),
    new_text_added="Paragraphs received: {count}. Go on or send /done.",
    new_text_empty="No paragraph yet. Send the article's text.",
    new_text_not_text="A text message is needed. When you are done, send /done.",
    new_text_too_long="The article is too long: more than {limit} characters.",
    new_ask_photo="Send a photo for the article, or /skip if it needs none.",
    new_photo_expected="A photo is needed (not a file), or /skip.",
    new_ask_credit="The photo credit, for example “Photo: Akorda”, or /skip.",
    new_credit_too_long="The credit is too long: {limit} characters at most.",
    new_ask_tags="Comma-separated tags (for example: Kazakhstan, China) or /skip.",
    new_tags_invalid=(
        "Could not read the tags: “{tag}”. Tags are words of letters and digits separated "
        "by commas, {limit} at most."
    ),
    new_expected_text="Send text, or /cancel to leave.",
    no_dialog="There is no open dialog. /new — a new article.",
    cancelled="Cancelled. Nothing was saved.",
    nothing_to_cancel="Nothing to cancel.",
    # --- polls ---
    poll_usage=(
        "A poll: the question and the answer options, each on a new line:\n"
        "/poll Should the avenue be renamed?\nYes\nNo\nHard to say\n\n"
        "An introduction may come before the question on a line of its own."
    ),
    poll_addpoll_usage=(
        "A poll for a draft: /addpoll <number>, then on new lines the question and the "
        "options (if the draft already has a question from the page, only the options)."
    ),
    poll_no_question="No question: write the question on the first line after the command.",
    poll_question_too_long="The question is too long: {length} characters, {limit} at most.",
    poll_intro_too_long="The introduction is too long: {limit} characters at most.",
    poll_too_few_options="At least {min} answer options are needed, each on a new line.",
    poll_too_many_options="Too many options: {count}, {max} at most.",
    poll_option_too_long="The option “{option}” is too long: {limit} characters at most.",
    poll_duplicate_option="The option “{option}” is repeated.",
    poll_post_outcomes=(
        (
            "posted",
            "Poll #{id} is published: {link}\nClose: /closepoll {id} · Results: /results {id}",
        ),
        ("failed", "Could not publish the poll: {reason}. Nothing has changed."),
        (
            "uncertain",
            "It is unknown whether poll #{id} reached the channel ({reason}). Check the channel "
            "{channel}: if the poll's post is there, its buttons work and votes are counted; "
            "if not, send /poll again.",
        ),
    ),
    poll_attached=(
        "Poll #{id} is added to draft #{article_id}: its buttons will appear under the post. "
        "Close it after publication: /closepoll {id}"
    ),
    poll_not_found="There is no poll #{id}.",
    poll_close_outcomes=(
        ("closed", "Poll #{id} is closed. The results in the channel: {link}"),
        ("already_closed", "Poll #{id} is already closed."),
    ),
    poll_id_usage="Give the poll's number, for example: /{command} 3",
    poll_results_header="Poll #{id} ({status}): {question}",
    poll_results_line="{label}: {count} ({percent}%)",
    poll_results_voters="Voted: {voters}",
    poll_status_open="open",
    poll_status_closed="closed",
    poll_status_pending="not in the channel yet",
    poll_closed_title="Poll results",
    poll_voters_total="Votes in total: {voters}",
    poll_option_button="{label} · {count}",
    vote_recorded="Your vote is counted: {label} — {percent}%",
    vote_unchanged="You have already chosen: {label} — {percent}%",
    vote_poll_closed="The poll is closed",
    vote_unknown="This poll is not available",
    vote_preview="This is a preview: voting opens after publication",
    new_ask_poll=(
        "Add a poll to the article? Send the question and the answer options, each on a new "
        "line, or /skip."
    ),
    draft_poll_offer=(
        "The page had a reader poll: “{question}”. To add it to the post, send "
        "/addpoll {id} and the answer options on new lines."
    ),
    draft_has_poll="Poll #{poll_id} is attached to the post: {question}",
    # --- errors ---
    internal_error="Something went wrong. We know about the error, please try again later.",
    storage_unavailable="The database is unavailable right now, nothing was done. Try later.",
    admin_error_report="⚠️ Error while handling update {update_id}: {error}",
    admin_errors_held_back="Since the last report, {count} more errors of this kind.",
    # --- the editor's desk ---
    cmd_history="Article history: /history <number>",
    cmd_stats="Statistics: /stats or /stats <number>",
    admins_only="This command is for administrators only.",
    editors_header="Editors:",
    editors_line_admin="{id} — administrator (ADMIN_IDS)",
    editors_line_settings="{id} — editor from the settings (EDITOR_IDS)",
    editors_line_database="{id} — editor, added by {added_by} on {when}",
    editors_footer=(
        "Add: /addeditor <id>, or reply /addeditor to a message forwarded from the person. "
        "Remove: /removeeditor <id>."
    ),
    addeditor_usage=(
        "Give the user's id: /addeditor 123456789, or reply /addeditor to a message "
        "forwarded from them."
    ),
    addeditor_hidden_forward=(
        "The sender hides their account in forwarded messages, so Telegram does not give "
        "their id. Find out the id (for example from @userinfobot) and send /addeditor <id>."
    ),
    addeditor_bot="This is a bot: a bot cannot be an editor.",
    editor_add_outcomes=(
        (
            "added",
            "{id} is now an editor: the editor commands work at once, the menu will appear in "
            "their chat with the bot.",
        ),
        ("already", "{id} is already an editor."),
        ("in_settings", "{id} is already an editor by the settings (EDITOR_IDS or ADMIN_IDS)."),
    ),
    removeeditor_usage="Give the editor's id: /removeeditor 123456789",
    editor_remove_outcomes=(
        ("removed", "{id} is no longer an editor."),
        (
            "in_settings",
            "{id} is an editor by the settings (EDITOR_IDS or ADMIN_IDS): a command cannot remove "
            "them, only a change of the settings and a restart of the bot.",
        ),
        ("not_editor", "{id} is not among the editors added in chat. The list: /editors"),
    ),
    history_usage="Give the article's number: /history 12",
    history_header="History of article #{id} “{title}” (time zone: {timezone}):",
    history_empty="The history of article #{id} has no entries yet.",
    history_line="{when} · {who} · {action}",
    history_detail="{line} ({detail})",
    history_bot="the bot",
    history_poll="poll #{poll_id}",
    versions_header="Earlier versions (to bring one back: /restore {id} <version>):",
    version_line="{number} · “{title}” · replaced {when} · {who}",
    history_actions=(
        ("import", "imported"),
        ("new", "created (/new)"),
        ("edit", "edited"),
        ("photo", "photo"),
        ("publish", "publication"),
        ("forcepublish", "publication retried"),
        ("markpublished", "marked as published"),
        ("notposted", "marked as not posted"),
        ("restore", "version brought back"),
        ("schedule", "scheduled for {when}"),
        ("unschedule", "schedule cancelled"),
        ("poll", "poll"),
        ("addpoll", "poll added"),
        ("closepoll", "poll closed"),
        ("delete", "deleted"),
        ("addeditor", "editor added"),
        ("removeeditor", "editor removed"),
        ("feed", "draft from a feed"),
        ("reject", "rejected"),
        ("correction", "correction from the site"),
    ),
    history_details=(
        ("published", "done"),
        ("failed", "failed"),
        ("uncertain", "outcome unknown"),
        ("posted", "in the channel"),
        ("attached", "under the post"),
        ("closed", "closed"),
        ("text", "text"),
        ("summary", "summary"),
        ("tags", "tags"),
        ("credit", "photo credit"),
    ),
    stats_usage="Format: /stats — today and this week, /stats <number> — one article.",
    stats_article_header="Article #{id} “{title}” · {status}",
    stats_readers="Readers of the full text: {readers}",
    stats_reactions="Reactions in the channel ({total}): {reactions}",
    stats_no_reactions="No reactions yet (Telegram reports them up to a few minutes late).",
    stats_not_in_channel="The post is not in the channel yet: no reactions or readers.",
    stats_no_poll="No poll.",
    stats_reaction_custom="custom emoji",
    stats_reaction_paid="⭐ paid",
    stats_today="Today",
    stats_week="This week (since Monday)",
    stats_period=(
        "{label}: articles published — {published}, new readers — {readers}, votes — {votes}"
    ),
    stats_top_header="Most read this week:",
    stats_top_line="#{id} · {readers} readers · {title}",
    stats_top_empty="Nobody has opened a full text this week yet.",
    stats_chart_no_readers="No chart: nobody has opened this article's full text yet.",
    stats_chart_no_readers_period=(
        "No chart: nobody has opened a full text in the last {days} days."
    ),
    chart_article_title="Article #{id}: new readers per hour, first {hours} h",
    chart_hours_axis="Hours after publication",
    chart_readers_axis="Readers",
    chart_poll_title="Poll: {question}",
    chart_votes_axis="Votes",
    chart_days_title="Readers per day, last {days} days",
    chart_days_axis="Day",
    chart_top_title="Most read this week (top {count})",
    # --- withdrawing a published article (/delete) ---
    cmd_delete="Withdraw an article",
    delete_usage="Give the number of a published article: /delete 12",
    withdrawn_deleted="Article #{id} was withdrawn: its post was deleted from the channel.",
    withdrawn_stubbed=(
        "Article #{id} was withdrawn. Its post is older than 48 hours and Telegram does not "
        "allow deleting it, so it was replaced with a “withdrawn” note: {link}"
    ),
    withdrawn_post_unchanged=(
        "Article #{id} was withdrawn, but its channel post could not be changed ({reason}). "
        "Delete or correct it by hand: {link}"
    ),
    withdraw_already="Article #{id} has already been withdrawn.",
    withdraw_not_published=(
        "Article #{id} is not published (status: {status}): nothing to withdraw."
    ),
    withdrawn_stub="This material has been withdrawn.",
    article_withdrawn="This article has been withdrawn.",
    # --- discovery: /search, inline mode, /top, related articles, the digest ---
    search_usage="Tell me what to find: /search Gagarin avenue",
    search_results="Found for “{query}”:",
    search_nothing="Nothing found for “{query}”. Try other words, or /top for the most read.",
    inline_read_button="Read in full",
    inline_no_results="Nothing found",
    top_title="Most read this week:",
    top_empty="Nobody has read an article in the last week yet.",
    most_read_headlines="Most read:",
    related_title="Read also:",
    digest_title="Most read today",
    digest_readers="{count} readers",
    digest_preview="This is how the digest would look now (not sent to the channel):",
    digest_empty="Nobody has read an article today yet: the digest would be empty.",
    digest_schedule="The digest is posted in the channel every day at {time}.",
    digest_off="The automatic digest is off (setting DIGEST_TIME).",
    digest_progress="Building the digest: counting the day's readers… ({seconds} s)",
    cmd_search="Search the articles",
    cmd_top="Most read this week",
    cmd_digest="Preview of the evening digest",
    # --- the offline preview of an article file ---
    preview_post_heading="CHANNEL POST ({length}/{limit})",
    preview_full_text_heading="FULL TEXT ({count} msg.)",
    preview_poll_heading="POLL ON THE PAGE",
    # --- feeds: /feed, /feeds, cards, /reject, /apply ---
    cmd_feed="Site feeds: /feed add <url>, /feed remove <number>",
    cmd_feeds="The feeds",
    cmd_reject="Reject a draft from a feed",
    cmd_apply="Apply the site's correction to a post",
    feed_usage=(
        "Usage: /feed add <feed url> — new items arrive as drafts; /feed add <url> <N> — "
        "and the newest N at once; /feed add <url> auto — publish without review; "
        "/feed remove <number>; /feeds — the list."
    ),
    feed_added=(
        "Feed #{id} added: {url}\nItems in it now: {total}, recorded as seen: {seen}. "
        "New items will arrive as drafts for review."
    ),
    feed_added_auto=(
        "Feed #{id} added: {url}\nItems in it now: {total}, recorded as seen: {seen}. "
        "New items will be published in the channel at once (auto)."
    ),
    feed_added_drafted="Drafts made of the newest items: {count}.",
    feed_added_skipped="Items skipped: {count} ({reasons}).",
    feed_exists="This feed is already there: #{id}.",
    feed_removed="Feed #{id} removed. Its drafts stay.",
    feed_not_found="There is no feed #{id}. The list: /feeds",
    feed_remove_usage="Tell me the feed's number: /feed remove 3 (numbers in /feeds)",
    feeds_empty="No feeds yet. Add one: /feed add <feed url>",
    feeds_header="Feeds:",
    feeds_line=("#{id} · {url} · {mode}\n  checked: {checked}; new item: {new}; error: {error}"),
    feeds_never="—",
    feed_modes=(("review", "for review"), ("auto", "auto-publish")),
    feed_errors=(
        ("bad_url", "this is not a feed's address"),
        ("scheme", "only http:// and https:// addresses are supported (not {scheme}://)"),
        ("private", "{host} is on an internal network; such feeds are not allowed"),
        ("network", "the site did not answer ({reason})"),
        ("http", "the site answered with error {status}"),
        ("redirects", "more than {limit} redirects"),
        ("not_a_feed", "this is not an RSS, Atom or JSON Feed (it looks like a web page)"),
        ("malformed", "the feed is broken and cannot be read"),
        ("cut", "the feed is larger than {limit} bytes: only its beginning was read"),
        ("unreadable", "the parser stopped while reading the feed"),
    ),
    feed_add_failed="The feed was not added: {reason}.",
    feed_skip_reasons=(
        ("no_title", "no title"),
        ("no_text", "no text and no link"),
        ("duplicate_guid", "repeated GUID"),
        ("malformed_item", "broken"),
    ),
    feed_card=(
        "New item from feed #{feed_id}: draft #{id} “{title}”\nSource: {link}\n"
        "/publish {id} — publish, /reject {id} — reject"
    ),
    feed_card_from_item=(
        "The article's page could not be read (or holds no article): the draft is made "
        "from the feed itself."
    ),
    card_publish_button="Publish",
    card_reject_button="Reject",
    card_published="Draft #{id} “{title}” is already published: {link}",
    card_rejected="Draft #{id} “{title}” was rejected.",
    card_editors_only="The card's buttons are for editors only.",
    card_done="Done",
    feed_photo_caption="Photo of draft #{id}. {credit}",
    reject_usage="Tell me the draft's number: /reject 12",
    rejected="Draft #{id} rejected: it will not come back from the feed.",
    feed_failing=(
        "Feed #{id} ({url}) has failed {count} checks in a row: {error}. "
        "Further failures are not reported until it works again."
    ),
    feed_recovered="Feed #{id} ({url}) works again.",
    feed_correction=(
        "The site corrected published article #{id}.\nBefore: {before}\nAfter: {after}\n"
        "/apply {id} — correct the channel post."
    ),
    feed_correction_draft="The site corrected an item: draft #{id} updated ({after}).",
    feed_correction_applied="The site corrected article #{id}: the channel post is updated.",
    apply_usage="Tell me the article's number: /apply 12",
    apply_nothing="There is no correction from the site for article #{id}.",
)
