"""Every user-facing string, in one place.

Russian is the default (the seed outlet's language). A second language is another
``Texts`` instance registered in ``LANGUAGES``; code receives a ``Texts`` object and never
spells a user-facing string itself. Templates use ``str.format`` fields; values put into
them are plain text (escaping is the formatter's job, never the template's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.failures import Failure

# How dates and times of schedules and history are shown (and typed in /schedule).
WHEN_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True, slots=True)
class Texts:
    # --- channel post and full text ---
    read_more_button: str = "Читать полностью"
    source_label: str = "Источник: {source}"
    ellipsis: str = "…"
    dateline_separator: str = " — "
    # strftime format of the date line under the title of the full text.
    published_format: str = "%d.%m.%Y, %H:%M"

    # --- readers ---
    greeting: str = "Здравствуйте! Здесь можно читать полные тексты статей нашего канала."
    latest_headlines: str = "Последние публикации:"
    no_articles_yet: str = "Пока нет опубликованных статей."
    article_not_found: str = (
        "Не удалось найти эту статью: возможно, ссылка устарела или повреждена. "
        "Отправьте /start, чтобы увидеть последние публикации."
    )
    reader_help: str = (
        "Нажмите «Читать полностью» под постом в канале, и бот пришлёт здесь полный текст. "
        "/start — последние публикации."
    )

    too_many_messages: str = (
        "Слишком много сообщений подряд: я отвечаю по одному в секунду, а лишние "
        "пропустил. Подождите немного и отправьте ещё раз то, что нужно."
    )
    too_many_presses: str = "Слишком часто: нажмите ещё раз через пару секунд."

    # --- access ---
    editors_only: str = "Эта команда доступна только редакторам."
    forwarded_not_command: str = (
        "Команды из пересланных сообщений не выполняются. Чтобы добавить автора "
        "в редакторы, ответьте на пересланное сообщение командой /addeditor."
    )
    article_open_in_bot: str = "Полный текст — в личном чате с ботом."
    private_only: str = (
        "Напишите мне в личные сообщения: в группах и каналах я не принимаю команды."
    )

    # --- editors: help and menu ---
    editor_help: str = (
        "Команды редактора:\n"
        "/new — новая статья (пошагово)\n"
        "/import — импорт текста страницы (текст на следующих строках, ответом на "
        "сообщение с текстом или .txt-файлом с подписью /import)\n"
        "/drafts — черновики, /published — опубликованные и число читателей\n"
        "/edit <номер> — заменить текст (новый текст на следующих строках); "
        "/summary, /tags, /credit <номер> <значение> — отдельные поля; "
        "/restore <номер> <версия> — вернуть прежнюю версию (версии — в /history)\n"
        "/photo <номер> — подпись к фото: прикрепить его к черновику\n"
        "/publish <номер> — опубликовать в канале\n"
        "/schedule <номер> <ГГГГ-ММ-ДД ЧЧ:ММ> — запланировать, /unschedule <номер> — отменить, "
        "/scheduled — список\n"
        "/poll — опрос в канале (вопрос и варианты, каждый с новой строки)\n"
        "/addpoll <номер> — опрос под постом черновика\n"
        "/closepoll <номер опроса> — завершить опрос, /results <номер> — итоги\n"
        "/delete <номер> — снять статью с публикации\n"
        "/history <номер> — кто и когда что делал со статьёй; /stats [номер] — статистика\n"
        "/digest — вечерняя подборка, какой она была бы сейчас\n"
        "/feed add <адрес> [N | auto] — лента сайта (новые материалы — черновики на проверку), "
        "/feed remove <номер>, /feeds — список; /reject <номер> — отклонить черновик; "
        "/apply <номер> — применить исправление с сайта\n"
        "/search <слова>, /top — поиск и самое читаемое\n"
        "/editors, /addeditor, /removeeditor — редакторы (для администраторов)\n"
        "/cancel — выйти из диалога"
    )
    cmd_start: str = "Последние публикации"
    cmd_help: str = "Справка"
    cmd_new: str = "Новая статья"
    cmd_import: str = "Импорт текста страницы"
    cmd_drafts: str = "Черновики"
    cmd_publish: str = "Опубликовать черновик: /publish <номер>"
    cmd_photo: str = "Фото к черновику: подпись /photo <номер>"
    cmd_cancel: str = "Выйти из диалога"
    cmd_poll: str = "Опрос в канале"
    cmd_addpoll: str = "Опрос под постом черновика: /addpoll <номер>"
    cmd_edit: str = "Изменить статью: /edit <номер> и новый текст"
    cmd_restore: str = "Вернуть версию статьи: /restore <номер> <версия>"
    cmd_unschedule: str = "Отменить запланированную публикацию"
    cmd_closepoll: str = "Завершить опрос: /closepoll <номер>"
    cmd_results: str = "Итоги опроса: /results <номер>"

    # --- editors: drafts and previews ---
    draft_actions: str = (
        "Черновик №{id}: «{title}»\n"
        "/publish {id} — опубликовать сейчас\n"
        "/schedule {id} ГГГГ-ММ-ДД ЧЧ:ММ — запланировать\n"
        "/photo {id} — подпись к фото, чтобы прикрепить его (или ответьте фото на превью)"
    )
    drafts_header: str = "Черновики и статьи, ожидающие действий:"
    drafts_empty: str = "Черновиков нет. /new — новая статья, /import — импорт текста."
    drafts_line: str = "№{id} · {status} · {title}"
    published_header: str = "Последние публикации (читателей полного текста):"
    published_line: str = "№{id} · {when} · {reads} чит. · {title}\n{link}"
    published_empty: str = "Опубликованных статей пока нет."
    cmd_published: str = "Опубликованные статьи и их читатели"
    status_names: tuple[tuple[str, str], ...] = (
        ("draft", "черновик"),
        ("scheduled", "запланирован"),
        ("publishing", "публикуется"),
        ("published", "опубликован"),
        ("failed", "ошибка публикации"),
        ("uncertain", "статус неизвестен"),
        ("withdrawn", "снят с публикации"),
        ("rejected", "отклонён"),
        ("archived", "из архива сайта"),
    )

    # --- editors: import ---
    import_usage: str = (
        "Пришлите текст страницы после команды на следующих строках:\n"
        "/import\n<текст>\n\nили ответьте /import на сообщение с текстом, "
        "или отправьте .txt-файл с подписью /import."
    )
    import_errors: tuple[tuple[str, str], ...] = (
        ("empty", "Текст пуст: нечего импортировать."),
        (
            "no_title",
            "Не нашёл заголовок: первой строкой текста (после даты) должен быть заголовок.",
        ),
        ("no_body", "Не нашёл текста статьи: после заголовка нет ни одного абзаца."),
        ("too_long", "Текст слишком длинный для одной статьи."),
    )
    import_not_text_file: str = "Нужен текстовый файл .txt в кодировке UTF-8."
    import_file_too_big: str = "Файл слишком большой: не больше {limit} КБ."
    import_bad_encoding: str = "Не удалось прочитать файл: сохраните его в кодировке UTF-8."
    import_download_failed: str = "Не удалось скачать файл из Telegram, попробуйте ещё раз."

    # --- editors: the archive (a .zip sent with /import) ---
    archive_progress: str = "Импорт архива: {done} / {total}, пропущено {skipped}"
    archive_cancel_button: str = "Остановить импорт"
    archive_done: str = (
        "Импорт архива завершён: добавлено статей — {imported}, уже были — {duplicates}, "
        "пропущено файлов — {bad}."
    )
    archive_cancelled: str = (
        "Импорт архива остановлен на {done} / {total}: добавлено статей — {imported} "
        "(они остаются), уже были — {duplicates}, пропущено файлов — {bad}."
    )
    archive_failed: str = (
        "Импорт архива прервался из-за ошибки базы данных на {done} / {total}: "
        "добавлено статей — {imported} (они остаются). Отправьте архив ещё раз: "
        "уже добавленные статьи не повторятся."
    )
    archive_bad_heading: str = "Пропущенные файлы:"
    archive_bad_line: str = "{name} — {reason}"
    archive_bad_more: str = "…и ещё {count}"
    archive_bad_reasons: tuple[tuple[str, str], ...] = (
        ("unsafe_name", "недопустимое имя (путь за пределы архива)"),
        ("nested_zip", "архив внутри архива"),
        ("too_big", "слишком большой файл"),
        ("bomb", "подозрительно сильно сжат"),
        ("unreadable", "файл повреждён или зашифрован"),
        ("not_article", "в файле нет статьи"),
        ("encoding", "неизвестная кодировка"),
    )
    archive_refused: tuple[tuple[str, str], ...] = (
        ("not_zip", "Это не zip-архив, или он повреждён."),
        ("too_big", "Архив слишком большой: не больше {limit} МБ."),
        ("bomb", "Архив распаковывается в слишком большой объём: не больше {limit} МБ."),
        ("too_many", "В архиве слишком много файлов: не больше {limit}."),
        ("empty", "В архиве нет страниц: нужны файлы .txt, .html или .htm."),
    )
    archive_busy: str = (
        "Ваш импорт архива ещё идёт: дождитесь его конца или остановите его кнопкой."
    )
    archive_cancelling: str = "Останавливаю импорт…"
    archive_not_yours: str = "Остановить импорт может только тот, кто его начал."
    archive_not_running: str = "Этот импорт уже закончился."

    # --- editors: photo ---
    photo_usage: str = (
        "Чтобы прикрепить фото к черновику, отправьте его с подписью /photo <номер> "
        "или ответьте фото на превью черновика."
    )
    photo_attached: str = "Фото прикреплено к черновику №{id}."
    photo_bad_id: str = "Укажите номер черновика: /photo <номер>, например /photo 12."

    # --- editors: publishing ---
    publish_usage: str = "Укажите номер черновика: /publish <номер>, например /publish 12."
    not_found: str = "Статьи №{id} нет. Список черновиков: /drafts"
    published: str = "Опубликовано в канале: {link}"
    already_published: str = "Статья №{id} уже опубликована: {link}"
    publish_in_progress: str = "Статья №{id} сейчас публикуется, подождите."
    publish_not_allowed: str = "Статью №{id} сейчас нельзя опубликовать (статус: {status})."
    publish_failed: str = "Не удалось опубликовать статью №{id}: {reason}. Черновик сохранён."
    publish_no_rights: str = (
        "Не удалось опубликовать статью №{id}: у бота нет права публиковать в канале "
        "{channel}. Добавьте бота администратором канала с правом публикации сообщений "
        "и повторите /publish {id}. Черновик сохранён."
    )
    publish_uncertain: str = (
        "Неизвестно, дошла ли статья №{id} до канала ({reason}). Проверьте канал {channel}: "
        "если поста нет — /forcepublish {id} (или /notposted {id}, чтобы вернуть её "
        "в черновики), если есть — /markpublished {id} <ссылка на пост>."
    )
    not_posted_settled: str = (
        "Статья №{id} отмечена как не опубликованная и снова в черновиках: /publish {id}."
    )
    publish_uncertain_at_start: str = (
        "После перезапуска неизвестно, опубликована ли статья №{id} «{title}». Проверьте канал "
        "{channel}: если поста нет — /forcepublish {id}, если есть — "
        "/markpublished {id} <ссылка на пост>."
    )
    publish_not_saved: str = (
        "Публикация статьи №{id} «{title}» не завершилась: база данных не приняла её итог, "
        "и пост, возможно, уже в канале {channel}. Проверьте: если поста нет — "
        "/forcepublish {id} (или /notposted {id}), если есть — /markpublished {id} "
        "<ссылка на пост>."
    )
    markpublished_usage: str = (
        "Укажите номер статьи и ссылку на пост: /markpublished 12 https://t.me/канал/345"
    )
    markpublished_taken: str = (
        "Пост {link} уже записан за {owner}, статья №{id} не изменилась. Укажите пост "
        "этой статьи (или /forcepublish {id}, если его нет в канале)."
    )
    owner_article: str = "статьёй №{id}"
    owner_poll: str = "опросом №{id}"
    channel_cannot_post: str = "⚠️ Бот не может публиковать в канале {channel}: {reason}"
    # {reason} above and below: why a send did not reach the channel (the kind of failure).
    failure_reasons: tuple[tuple[str, str], ...] = (
        ("telegram", "Telegram ответил: «{detail}»"),
        ("no_rights", "у бота нет прав в канале (Telegram: «{detail}»)"),
        ("not_admin", "бот в канале не администратор с правом публикации (статус: {detail})"),
        ("flood", "Telegram просит подождать {detail} с"),
        ("no_answer", "нет ясного ответа от Telegram ({detail})"),
        ("prepare", "не удалось подготовить пост ({detail})"),
        ("restart", "бот перезапустился во время публикации"),
        ("not_recorded", "пост {detail} опубликован, но записан другой"),
        ("not_saved", "пост {detail} опубликован, но не записан в базе бота"),
        ("taken", "записанный пост (сообщение {detail}) принадлежит другой статье или опросу"),
        ("error", "внутренняя ошибка бота ({detail})"),
    )

    # --- editing ---
    edit_usage: str = (
        "Новый текст статьи — на следующих строках после команды: /edit 12\n<текст>. "
        "Отдельные поля: /summary 12 <анонс>, /tags 12 <теги через запятую>, "
        "/credit 12 <подпись к фото>."
    )
    field_usage: str = "Формат: /{command} <номер> <значение>, например /{command} 12 …"
    summary_too_long: str = "Анонс слишком длинный: можно не больше {limit} символов."
    edit_draft_updated: str = "Черновик №{id} обновлён."
    # What an edit or a restore did; a draft it updated is shown as its preview instead.
    edit_outcomes: tuple[tuple[str, str], ...] = (
        ("post_updated", "Статья №{id} обновлена, пост в канале исправлен: {link}"),
        (
            "post_not_updated",
            "Статья №{id} обновлена (полный текст уже новый), но пост в канале изменить не "
            "удалось: {reason}. Пост: {link}",
        ),
        ("busy", "Статья №{id} сейчас публикуется, попробуйте через минуту."),
        ("withdrawn", "Статья №{id} снята с публикации, её нельзя изменить."),
        ("no_version", "У статьи №{id} нет версии {version}. Версии — в /history {id}."),
        ("not_editable", "Статью №{id} нельзя изменить: её статус — «{status}»."),
    )
    restore_usage: str = (
        "Укажите номер статьи и номер версии: /restore 12 3. Версии статьи — в /history 12."
    )
    restore_draft_updated: str = "Черновик №{id}: возвращена версия {version}."

    # --- scheduling ---
    schedule_usage: str = (
        "Укажите номер черновика, дату и время: /schedule 12 2026-12-01 09:30 "
        "(время — {timezone})."
    )
    schedule_bad_date: str = (
        "Не понял дату «{value}». Формат: ГГГГ-ММ-ДД ЧЧ:ММ, например 2026-12-01 09:30."
    )
    schedule_in_past: str = "Время {when} уже прошло. Укажите время в будущем."
    schedule_too_far: str = "Можно запланировать не больше чем на год вперёд."
    scheduled_ok: str = (
        "Статья №{id} будет опубликована {when} ({timezone}). Отменить: /unschedule {id}"
    )
    unschedule_outcomes: tuple[tuple[str, str], ...] = (
        ("unscheduled", "Публикация статьи №{id} отменена, она снова черновик."),
        ("not_scheduled", "Статья №{id} не запланирована."),
    )
    unschedule_usage: str = "Укажите номер статьи: /unschedule 12"
    scheduled_header: str = "Запланированные публикации ({timezone}):"
    scheduled_line: str = "№{id} · {when} · {title}"
    scheduled_empty: str = "Запланированных публикаций нет."
    scheduled_published: str = "Запланированная статья №{id} опубликована: {link}"
    scheduled_published_late: str = (
        "Запланированная статья №{id} опубликована с опозданием (время было {when}, бот "
        "был недоступен): {link}"
    )
    cmd_schedule: str = "Запланировать: /schedule <номер> <ГГГГ-ММ-ДД ЧЧ:ММ>"
    cmd_scheduled: str = "Запланированные публикации"

    # --- the /new dialog ---
    new_ask_title: str = "Новая статья. Пришлите заголовок (одной строкой). /cancel — отмена."
    new_title_empty: str = "Заголовок пуст. Пришлите заголовок текстом."
    new_title_too_long: str = (
        "Заголовок слишком длинный: {length} символов, можно не больше {limit}."
    )
    new_title_multiline: str = "Заголовок должен быть одной строкой."
    new_ask_text: str = (
        "Теперь текст статьи: одним или несколькими сообщениями, абзацы — с новой строки. "
        "Когда закончите, отправьте /done."
    )
    new_text_added: str = "Принято абзацев: {count}. Продолжайте или отправьте /done."
    new_text_empty: str = "Пока нет ни одного абзаца. Пришлите текст статьи."
    new_text_not_text: str = "Нужен текст сообщением. Когда закончите, отправьте /done."
    new_text_too_long: str = "Статья слишком длинная: больше {limit} символов."
    new_ask_photo: str = "Пришлите фото к статье или /skip, если фото не нужно."
    new_photo_expected: str = "Нужна фотография (не файл) или /skip."
    new_ask_credit: str = "Подпись к фото, например «Фото: Акорда», или /skip."
    new_credit_too_long: str = "Подпись слишком длинная: можно не больше {limit} символов."
    new_ask_tags: str = "Теги через запятую (например: Казахстан, Китай) или /skip."
    new_tags_invalid: str = (
        "Не получилось разобрать теги: «{tag}». Теги — слова из букв и цифр через запятую, "
        "не больше {limit} штук."
    )
    new_expected_text: str = "Пришлите текст сообщением или /cancel, чтобы выйти."
    no_dialog: str = "Сейчас нет открытого диалога. /new — новая статья."
    cancelled: str = "Отменено. Ничего не сохранено."
    nothing_to_cancel: str = "Нечего отменять."

    # --- polls ---
    poll_usage: str = (
        "Опрос: вопрос и варианты ответа, каждый с новой строки:\n"
        "/poll Считаете ли Вы необходимым переименование проспекта?\nДа\nНет\nЗатрудняюсь ответить\n\n"
        "Перед вопросом можно добавить вступление отдельной строкой."
    )
    poll_addpoll_usage: str = (
        "Опрос к черновику: /addpoll <номер>, затем с новой строки вопрос и варианты "
        "(если у черновика уже есть вопрос со страницы — только варианты)."
    )
    poll_no_question: str = "Нет вопроса: первой строкой после команды напишите вопрос."
    poll_question_too_long: str = (
        "Вопрос слишком длинный: {length} символов, можно не больше {limit}."
    )
    poll_intro_too_long: str = "Вступление слишком длинное: можно не больше {limit} символов."
    poll_too_few_options: str = "Нужно хотя бы {min} варианта ответа, каждый с новой строки."
    poll_too_many_options: str = "Слишком много вариантов: {count}, можно не больше {max}."
    poll_option_too_long: str = (
        "Вариант «{option}» слишком длинный: можно не больше {limit} символов."
    )
    poll_duplicate_option: str = "Вариант «{option}» повторяется."
    poll_post_outcomes: tuple[tuple[str, str], ...] = (
        (
            "posted",
            "Опрос №{id} опубликован: {link}\nЗавершить: /closepoll {id} · Итоги: /results {id}",
        ),
        ("failed", "Не удалось опубликовать опрос: {reason}. Ничего не изменилось."),
        (
            "uncertain",
            "Неизвестно, дошёл ли опрос №{id} до канала ({reason}). Проверьте канал {channel}: "
            "если пост с опросом там есть, его кнопки работают и голоса считаются; "
            "если нет — отправьте /poll ещё раз.",
        ),
    )
    poll_attached: str = (
        "Опрос №{id} добавлен к черновику №{article_id}: кнопки появятся под постом. "
        "Завершить после публикации: /closepoll {id}"
    )
    poll_not_found: str = "Опроса №{id} нет."
    poll_close_outcomes: tuple[tuple[str, str], ...] = (
        ("closed", "Опрос №{id} завершён. Итоги в канале: {link}"),
        ("already_closed", "Опрос №{id} уже завершён."),
    )
    poll_id_usage: str = "Укажите номер опроса, например: /{command} 3"
    poll_results_header: str = "Опрос №{id} ({status}): {question}"
    poll_results_line: str = "{label}: {count} ({percent}%)"
    poll_results_voters: str = "Проголосовали: {voters}"
    poll_status_open: str = "идёт"
    poll_status_closed: str = "завершён"
    poll_status_pending: str = "ещё не в канале"
    poll_closed_title: str = "Итоги опроса"
    poll_voters_total: str = "Всего голосов: {voters}"
    poll_option_button: str = "{label} · {count}"
    vote_recorded: str = "Ваш голос учтён: {label} — {percent}%"
    vote_unchanged: str = "Вы уже выбрали: {label} — {percent}%"
    vote_poll_closed: str = "Опрос завершён"
    vote_unknown: str = "Этот опрос недоступен"
    vote_preview: str = "Это превью: голосование откроется после публикации"
    new_ask_poll: str = (
        "Добавить к статье опрос? Пришлите вопрос и варианты ответа, каждый с новой строки, "
        "или /skip."
    )
    draft_poll_offer: str = (
        "На странице был опрос читателей: «{question}». Чтобы добавить его к посту, "
        "отправьте /addpoll {id} и с новой строки варианты ответа."
    )
    draft_has_poll: str = "К посту прикреплён опрос №{poll_id}: {question}"

    # --- errors ---
    internal_error: str = "Что-то пошло не так. Мы уже знаем об ошибке, попробуйте позже."
    storage_unavailable: str = (
        "База данных сейчас недоступна, действие не выполнено. Попробуйте позже."
    )
    admin_error_report: str = "⚠️ Ошибка при обработке обновления {update_id}: {error}"
    admin_errors_held_back: str = "С прошлого отчёта таких ошибок было ещё: {count}."

    # --- the editor's desk: editors, history, statistics ---
    cmd_history: str = "История статьи: /history <номер>"
    cmd_stats: str = "Статистика: /stats или /stats <номер>"
    admins_only: str = "Эта команда доступна только администраторам."
    editors_header: str = "Редакторы:"
    editors_line_admin: str = "{id} — администратор (ADMIN_IDS)"
    editors_line_settings: str = "{id} — редактор из настроек (EDITOR_IDS)"
    editors_line_database: str = "{id} — редактор, добавил {added_by} {when}"
    editors_footer: str = (
        "Добавить: /addeditor <id> или ответом /addeditor на пересланное от человека "
        "сообщение. Убрать: /removeeditor <id>."
    )
    addeditor_usage: str = (
        "Укажите id пользователя: /addeditor 123456789, или ответьте /addeditor на "
        "пересланное от него сообщение."
    )
    addeditor_hidden_forward: str = (
        "Отправитель скрыл свой аккаунт в пересланных сообщениях, и Telegram не сообщает "
        "его id. Узнайте id (например, у @userinfobot) и отправьте /addeditor <id>."
    )
    addeditor_bot: str = "Это бот: бота нельзя сделать редактором."
    editor_add_outcomes: tuple[tuple[str, str], ...] = (
        (
            "added",
            "{id} теперь редактор: команды редактора работают сразу, меню появится "
            "в его чате с ботом.",
        ),
        ("already", "{id} уже редактор."),
        ("in_settings", "{id} уже редактор по настройкам (EDITOR_IDS или ADMIN_IDS)."),
    )
    removeeditor_usage: str = "Укажите id редактора: /removeeditor 123456789"
    editor_remove_outcomes: tuple[tuple[str, str], ...] = (
        ("removed", "{id} больше не редактор."),
        (
            "in_settings",
            "{id} — редактор по настройкам (EDITOR_IDS или ADMIN_IDS): командой его не убрать, "
            "только изменив настройки и перезапустив бота.",
        ),
        ("not_editor", "{id} нет среди редакторов, добавленных в чате. Список: /editors"),
    )
    history_usage: str = "Укажите номер статьи: /history 12"
    history_header: str = "История статьи №{id} «{title}» (время — {timezone}):"
    history_empty: str = "В истории статьи №{id} пока нет записей."
    history_line: str = "{when} · {who} · {action}"
    history_detail: str = "{line} ({detail})"
    history_bot: str = "бот"
    history_poll: str = "опрос №{poll_id}"
    versions_header: str = "Прежние версии (вернуть: /restore {id} <версия>):"
    # When and by whom the version was replaced (by an edit or a restore).
    version_line: str = "{number} · «{title}» · заменена {when} · {who}"
    history_actions: tuple[tuple[str, str], ...] = (
        ("import", "импорт"),
        ("new", "создание (/new)"),
        ("edit", "правка"),
        ("photo", "фото"),
        ("publish", "публикация"),
        ("forcepublish", "повторная публикация"),
        ("markpublished", "отмечена опубликованной"),
        ("notposted", "отмечена не опубликованной"),
        ("restore", "возвращена версия"),
        ("schedule", "запланирована на {when}"),
        ("unschedule", "отмена расписания"),
        ("poll", "опрос"),
        ("addpoll", "опрос добавлен"),
        ("closepoll", "опрос завершён"),
        ("delete", "удаление"),
        ("addeditor", "добавлен редактор"),
        ("removeeditor", "убран редактор"),
        ("feed", "черновик из ленты"),
        ("reject", "отклонён"),
        ("correction", "исправление с сайта"),
    )
    history_details: tuple[tuple[str, str], ...] = (
        ("published", "успешно"),
        ("failed", "ошибка"),
        ("uncertain", "исход неизвестен"),
        ("posted", "в канале"),
        ("attached", "под постом"),
        ("closed", "завершён"),
        ("text", "текст"),
        ("summary", "анонс"),
        ("tags", "теги"),
        ("credit", "подпись к фото"),
    )
    stats_usage: str = "Формат: /stats — итоги дня и недели, /stats <номер> — статья."
    stats_article_header: str = "Статья №{id} «{title}» · {status}"
    stats_readers: str = "Читателей полного текста: {readers}"
    stats_reactions: str = "Реакции в канале ({total}): {reactions}"
    stats_no_reactions: str = (
        "Реакций пока нет (Telegram сообщает о них с задержкой до нескольких минут)."
    )
    stats_not_in_channel: str = "Поста в канале ещё нет: реакций и читателей нет."
    stats_no_poll: str = "Опроса нет."
    stats_reaction_custom: str = "свой эмодзи"
    stats_reaction_paid: str = "⭐ платные"
    stats_today: str = "Сегодня"
    stats_week: str = "Эта неделя (с понедельника)"
    stats_period: str = (
        "{label}: опубликовано статей — {published}, новых читателей — {readers}, "
        "голосов — {votes}"
    )
    stats_top_header: str = "Самые читаемые за неделю:"
    stats_top_line: str = "№{id} · {readers} чит. · {title}"
    stats_top_empty: str = "За неделю полные тексты ещё никто не открывал."
    stats_chart_no_readers: str = "Графика нет: полный текст этой статьи ещё никто не открывал."
    stats_chart_no_readers_period: str = (
        "Графика нет: за последние {days} дн. полные тексты никто не открывал."
    )
    chart_article_title: str = "Статья №{id}: новые читатели по часам, первые {hours} ч"
    chart_hours_axis: str = "Часов после публикации"
    chart_readers_axis: str = "Читателей"
    chart_poll_title: str = "Опрос: {question}"
    chart_votes_axis: str = "Голосов"
    chart_days_title: str = "Читатели по дням, последние {days} дн."
    chart_days_axis: str = "День"
    chart_top_title: str = "Самые читаемые за неделю (топ-{count})"

    # --- feeds: /feed, /feeds, cards, /reject, /apply ---
    cmd_feed: str = "Ленты сайта: /feed add <адрес>, /feed remove <номер>"
    cmd_feeds: str = "Список лент"
    cmd_reject: str = "Отклонить черновик из ленты"
    cmd_apply: str = "Применить исправление с сайта к посту"
    feed_usage: str = (
        "Формат: /feed add <адрес ленты> — новые материалы приходят черновиками; "
        "/feed add <адрес> <N> — ещё и N последних сразу; /feed add <адрес> auto — "
        "публиковать без проверки; /feed remove <номер>; /feeds — список."
    )
    feed_added: str = (
        "Лента №{id} добавлена: {url}\nВ ней сейчас материалов: {total}, отмечены как "
        "просмотренные: {seen}. Новые будут приходить черновиками на проверку."
    )
    feed_added_auto: str = (
        "Лента №{id} добавлена: {url}\nВ ней сейчас материалов: {total}, отмечены как "
        "просмотренные: {seen}. Новые будут публиковаться в канале сразу (auto)."
    )
    feed_added_drafted: str = "Черновиков из последних материалов: {count}."
    feed_added_skipped: str = "Пропущено материалов: {count} ({reasons})."
    feed_exists: str = "Эта лента уже добавлена: №{id}."
    feed_removed: str = "Лента №{id} удалена. Её черновики остались."
    feed_not_found: str = "Ленты №{id} нет. Список: /feeds"
    feed_remove_usage: str = "Укажите номер ленты: /feed remove 3 (номера — в /feeds)"
    feeds_empty: str = "Лент пока нет. Добавьте: /feed add <адрес ленты>"
    feeds_header: str = "Ленты:"
    feeds_line: str = (
        "№{id} · {url} · {mode}\n  проверена: {checked}; новый материал: {new}; ошибка: {error}"
    )
    feeds_never: str = "—"
    feed_modes: tuple[tuple[str, str], ...] = (
        ("review", "на проверку"),
        ("auto", "автопубликация"),
    )
    feed_errors: tuple[tuple[str, str], ...] = (
        ("bad_url", "это не адрес ленты"),
        ("scheme", "поддерживаются только адреса http:// и https:// (не {scheme}://)"),
        ("private", "адрес {host} ведёт во внутреннюю сеть, такие ленты запрещены"),
        ("network", "сайт не ответил ({reason})"),
        ("http", "сайт ответил ошибкой {status}"),
        ("redirects", "больше {limit} перенаправлений"),
        ("not_a_feed", "по адресу не лента RSS, Atom или JSON Feed (похоже на обычную страницу)"),
        ("malformed", "лента повреждена: её не удалось разобрать"),
        ("cut", "лента больше {limit} байт: прочитано только начало"),
        ("unreadable", "разбор ленты прервался: обработчик остановился на ней"),
    )
    feed_add_failed: str = "Ленту не удалось добавить: {reason}."
    feed_skip_reasons: tuple[tuple[str, str], ...] = (
        ("no_title", "без заголовка"),
        ("no_text", "без текста и ссылки"),
        ("duplicate_guid", "повтор GUID"),
        ("malformed_item", "повреждён"),
    )
    feed_card: str = (
        "Новый материал из ленты №{feed_id}: черновик №{id} «{title}»\nИсточник: {link}\n"
        "/publish {id} — опубликовать, /reject {id} — отклонить"
    )
    feed_card_from_item: str = (
        "Страницу статьи прочитать не удалось (или на ней нет статьи): черновик собран "
        "из самой ленты."
    )
    card_publish_button: str = "Опубликовать"
    card_reject_button: str = "Отклонить"
    card_published: str = "Черновик №{id} «{title}» уже опубликован: {link}"
    card_rejected: str = "Черновик №{id} «{title}» отклонён."
    card_editors_only: str = "Кнопки карточки — только для редакторов."
    card_done: str = "Готово"
    feed_photo_caption: str = "Фото к черновику №{id}. {credit}"
    reject_usage: str = "Укажите номер черновика: /reject 12"
    rejected: str = "Черновик №{id} отклонён: из ленты он больше не вернётся."
    feed_failing: str = (
        "Лента №{id} ({url}) не проверяется уже {count} раза подряд: {error}. "
        "Следующие сбои не сообщаются, пока она не заработает."
    )
    feed_recovered: str = "Лента №{id} ({url}) снова работает."
    feed_correction: str = (
        "Сайт исправил опубликованную статью №{id}.\nБыло: {before}\nСтало: {after}\n"
        "/apply {id} — исправить пост в канале."
    )
    feed_correction_draft: str = "Сайт исправил материал: черновик №{id} обновлён ({after})."
    feed_correction_applied: str = "Сайт исправил статью №{id}: пост в канале обновлён."
    apply_usage: str = "Укажите номер статьи: /apply 12"
    apply_nothing: str = "Для статьи №{id} нет исправлений с сайта."

    def history_action(self, action: str) -> str:
        return dict(self.history_actions).get(action, action)

    def history_detail_name(self, detail: str) -> str:
        return dict(self.history_details).get(detail, detail)

    # --- withdrawing a published article (/delete) ---
    cmd_delete: str = "Снять статью с публикации"
    delete_usage: str = "Укажите номер опубликованной статьи: /delete 12"
    withdrawn_deleted: str = "Статья №{id} снята с публикации: пост удалён из канала."
    withdrawn_stubbed: str = (
        "Статья №{id} снята с публикации. Пост старше 48 часов, Telegram не даёт его "
        "удалить, поэтому он заменён пометкой «снято с публикации»: {link}"
    )
    withdrawn_post_unchanged: str = (
        "Статья №{id} снята с публикации, но пост в канале изменить не удалось ({reason}). "
        "Удалите или исправьте его вручную: {link}"
    )
    withdraw_already: str = "Статья №{id} уже снята с публикации."
    withdraw_not_published: str = (
        "Статья №{id} не опубликована (статус: {status}), снимать с публикации нечего."
    )
    # The channel post that replaces a withdrawn article older than 48 hours.
    withdrawn_stub: str = "Материал снят с публикации."
    # A reader opens a withdrawn article.
    article_withdrawn: str = "Эта статья снята с публикации."
    # --- discovery: /search, inline mode, /top, related articles, the digest ---
    search_usage: str = "Напишите, что найти: /search проспект Гагарина"
    search_results: str = "Нашлось по запросу «{query}»:"
    search_nothing: str = (
        "По запросу «{query}» ничего не нашлось. Попробуйте другие слова или /top — "
        "самое читаемое."
    )
    inline_read_button: str = "Читать полностью"
    inline_no_results: str = "Ничего не нашлось"
    top_title: str = "Самое читаемое за неделю:"
    top_empty: str = "За последнюю неделю статьи ещё не читали."
    top_button: str = "{title} · {count}"
    most_read_headlines: str = "Самое читаемое:"
    related_title: str = "Читайте также:"
    digest_title: str = "Самое читаемое за день"
    digest_readers: str = "{count} чит."
    digest_preview: str = "Так выглядел бы дайджест сейчас (в канал не отправлен):"
    digest_empty: str = "Сегодня статьи ещё не читали: дайджест был бы пустым."
    digest_schedule: str = "Дайджест публикуется в канале каждый день в {time}."
    digest_off: str = "Автоматический дайджест выключен (настройка DIGEST_TIME)."
    digest_progress: str = "Собираю дайджест: считаю читателей за день… ({seconds} с)"
    cmd_search: str = "поиск по статьям"
    cmd_top: str = "самое читаемое за неделю"
    cmd_digest: str = "превью вечернего дайджеста"

    # --- the offline preview of an article file (python -m bot preview) ---
    # Headings between the parts: the post with its length and limit, the full text with
    # its number of messages, the poll found on the page.
    preview_post_heading: str = "ПОСТ В КАНАЛЕ ({length}/{limit})"
    preview_full_text_heading: str = "ПОЛНЫЙ ТЕКСТ ({count} сообщ.)"
    preview_poll_heading: str = "ОПРОС НА СТРАНИЦЕ"

    # The bot's status in the channel (Telegram's ChatMember.status), for NOT_ADMIN.
    member_statuses: tuple[tuple[str, str], ...] = (
        ("creator", "владелец"),
        ("administrator", "администратор без права публикации"),
        ("member", "участник"),
        ("restricted", "участник с ограничениями"),
        ("left", "не участник"),
        ("kicked", "удалён из канала"),
    )

    def failure(self, failure: Failure | None) -> str:
        """Why, in this language; empty when there is no reason."""
        if failure is None:
            return ""
        # Imported here: the failures module reads aiogram's exceptions, which the
        # command line must not wait for before it has checked the settings.
        from bot.failures import FailureKind

        template = dict(self.failure_reasons).get(failure.kind, "{detail}")
        detail = failure.detail
        if failure.kind is FailureKind.NOT_ADMIN:
            detail = dict(self.member_statuses).get(detail, detail)
        return template.format(detail=detail)

    def outcome(self, table: tuple[tuple[str, str], ...], outcome: str, fallback: str) -> str:
        """The text of a service's outcome from one of the ``*_outcomes`` tables."""
        return dict(table).get(outcome, fallback)

    def status_name(self, status: str) -> str:
        return dict(self.status_names).get(status, status)

    def import_error(self, code: str) -> str:
        return dict(self.import_errors).get(code, self.import_usage)

    def archive_bad_reason(self, code: str) -> str:
        return dict(self.archive_bad_reasons).get(code, code)

    def archive_refusal(self, code: str, limit: int) -> str:
        return dict(self.archive_refused).get(code, code).format(limit=limit)

    def feed_error(self, code: str, params: dict[str, object]) -> str:
        """Why a feed could not be read, in this language."""
        template = dict(self.feed_errors).get(code, code)
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template

    def feed_mode(self, mode: str) -> str:
        return dict(self.feed_modes).get(mode, mode)

    def feed_skips(self, reasons: tuple[str, ...]) -> str:
        names = dict(self.feed_skip_reasons)
        return ", ".join(sorted({names.get(reason, reason) for reason in reasons}))


RU = Texts()
LANGUAGES: dict[str, Texts] = {"ru": RU}
DEFAULT_LANGUAGE = "ru"


def get_texts(language: str | None = None) -> Texts:
    """Texts for a language code, falling back to the default language."""
    if language == "en" and "en" not in LANGUAGES:
        from bot.texts_en import EN  # here: texts_en imports this module

        LANGUAGES["en"] = EN
    return LANGUAGES.get(language or DEFAULT_LANGUAGE, RU)


def texts_for_user(language_code: str | None, default: str) -> Texts:
    """A person's texts by their Telegram language: English for en*, else ``default``."""
    if language_code and language_code.lower().startswith("en"):
        return get_texts("en")
    return get_texts(default)
