"""A corpus of well-formed records with planted faults of meaning, each beside its clean twin (issue #15).

Every pair is one conversation written twice: the clean twin is right, the
faulty twin differs only by the planted fault (a wrong figure in the answer, an
invented argument, an unchained step, ...). Both twins are valid in form (JSON,
schemas, message order, scenario shape), so only the grounding checks can tell
them apart. ``meta.corpus`` says which class, which pair, and whether the twin
is faulty; the checks never read ``meta``.

``python -m tests.unit.validate.grounding_corpus`` rewrites
``grounding_corpus.jsonl`` beside this file (the test checks it is current).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
JSONL = HERE / "grounding_corpus.jsonl"
SYSTEM = {"role": "system", "content": "You are a helpful assistant with access to tools."}


def tool(name: str, desc: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": desc, "parameters": {
        "type": "object", "properties": props, "required": required, "additionalProperties": False}}}


S = {"type": "string"}
WEATHER = tool("get_weather", "Get the current weather, or a forecast, for a city.", {
    "city": {"type": "string", "minLength": 1}, "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"},
    "days": {"type": "integer", "minimum": 0, "maximum": 7, "default": 0}}, ["city"])
TRANSLATE = tool("translate", "Translate text between languages.", {
    "text": S, "target_language": {"type": "string", "pattern": "^[a-z]{2}$"}}, ["text", "target_language"])
FLIGHTS = tool("search_flights", "Search flights between two airports on a date.", {
    "origin": S, "destination": S, "date": {"type": "string", "format": "date"}}, ["origin", "destination", "date"])
BOOK = tool("book_flight", "Book a seat on a flight found by search_flights.", {
    "flight_id": S, "passenger_name": S}, ["flight_id", "passenger_name"])
STOCK = tool("get_stock_price", "Get the latest trading price of a stock by its ticker symbol.", {
    "symbol": S}, ["symbol"])
FX = tool("convert_currency", "Convert an amount of money from one currency to another at today's rate.", {
    "amount": {"type": "number"}, "from_currency": S, "to_currency": S}, ["amount", "from_currency", "to_currency"])
EMAIL = tool("send_email", "Send an email on the user's behalf.", {
    "to": S, "subject": S, "body": S}, ["to", "subject", "body"])
CONTACTS = tool("search_contacts", "Look up a person in the user's address book and return their email and phone.", {
    "name": S}, ["name"])
RESTAURANTS = tool("search_restaurants", "Find restaurants in a city, optionally by cuisine.", {
    "city": S, "cuisine": S}, ["city"])
TABLE = tool("book_table", "Reserve a table at a restaurant found by search_restaurants.", {
    "restaurant_id": S, "time": S, "party_size": {"type": "integer", "minimum": 1}}, ["restaurant_id", "time", "party_size"])
ORDERS = tool("get_order_status", "Look up the shipping status of an order by its order id.", {"order_id": S}, ["order_id"])
CALC = tool("calculate", "Evaluate an arithmetic expression.", {"expression": S}, ["expression"])
CLOCK = tool("get_current_datetime", "Return the current date and time in a time zone.", {
    "timezone": S, "format": {"type": "string", "enum": ["iso", "human", "unix"], "default": "iso"}}, ["timezone"])
NEWS = tool("get_news", "Get the latest news headlines on a topic.", {
    "topic": S, "language": {"type": "string", "enum": ["english", "german", "french", "spanish"], "default": "english"}},
    ["topic"])
READ = tool("read_file", "Read a text file from the user's workspace.", {"path": S}, ["path"])
DISTANCE = tool("get_distance", "Driving distance between two places.", {
    "origin": S, "destination": S, "unit": {"type": "string", "enum": ["km", "miles"], "default": "km"}},
    ["origin", "destination"])


def call(cid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def calls(*cs: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": "", "tool_calls": list(cs)}


def result(cid: str, name: str, value: Any) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": cid, "name": name,
            "content": value if isinstance(value, str) else json.dumps(value)}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def answer(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def rec(scenario: str | None, tools: list[dict[str, Any]], *messages: dict[str, Any]) -> dict[str, Any]:
    return {"scenario": scenario, "tools": copy.deepcopy(tools), "messages": [SYSTEM, *copy.deepcopy(list(messages))]}


def _weather_oslo(final: str, temp: Any = 4) -> dict[str, Any]:
    return rec("single_tool", [WEATHER, TRANSLATE], user("What's the weather in Oslo right now?"),
               calls(call("c1", "get_weather", {"city": "Oslo"})),
               result("c1", "get_weather", {"temp_c": temp, "condition": "light rain", "wind_kmh": 18}), answer(final))


def _flights(book_id: str, final: str, *, scenario: str = "multi_tool_sequential") -> dict[str, Any]:
    return rec(scenario, [FLIGHTS, BOOK, WEATHER],
               user("Find me a flight from Lisbon to Berlin on 2026-03-14 and book the cheapest one for Ana Costa."),
               calls(call("c1", "search_flights", {"origin": "Lisbon", "destination": "Berlin", "date": "2026-03-14"})),
               result("c1", "search_flights", {"flights": [{"flight_id": "TP-532", "price_eur": 129, "departs": "07:45"},
                                                           {"flight_id": "LH-1167", "price_eur": 184, "departs": "11:20"}]}),
               calls(call("c2", "book_flight", {"flight_id": book_id, "passenger_name": "Ana Costa"})),
               result("c2", "book_flight", {"status": "confirmed", "booking_ref": "QX7P2L"}),
               answer(final))


def pairs() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(fault class, pair name, clean twin, faulty twin)."""
    out: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []

    def add(cls: str, name: str, clean: dict[str, Any], bad: dict[str, Any]) -> None:
        out.append((cls, name, clean, bad))

    # 1. the answer states values that contradict or do not appear in the results --------------------------
    add("answer_ungrounded", "wrong-temperature",
        _weather_oslo("It is 4 °C in Oslo with light rain and wind at 18 km/h."),
        _weather_oslo("It is 9 °C in Oslo with light rain and wind at 18 km/h."))
    add("answer_ungrounded", "invented-booking-ref",
        _flights("TP-532", "Booked TP-532 (EUR 129, departs 07:45) for Ana Costa; your booking reference is QX7P2L."),
        _flights("TP-532", "Booked TP-532 (EUR 129, departs 07:45) for Ana Costa; your booking reference is QX9K4M."))
    stock = [STOCK, FX]
    add("answer_ungrounded", "wrong-price",
        rec("single_tool", stock, user("How much is one Apple share (AAPL) right now?"),
            calls(call("c1", "get_stock_price", {"symbol": "AAPL"})),
            result("c1", "get_stock_price", {"symbol": "AAPL", "price_usd": 227.48, "change_pct": -0.6}),
            answer("AAPL trades at $227.48, down 0.6% today.")),
        rec("single_tool", stock, user("How much is one Apple share (AAPL) right now?"),
            calls(call("c1", "get_stock_price", {"symbol": "AAPL"})),
            result("c1", "get_stock_price", {"symbol": "AAPL", "price_usd": 227.48, "change_pct": -0.6}),
            answer("AAPL trades at $232.10, down 0.6% today.")))
    rest = [RESTAURANTS, TABLE, WEATHER]

    def _rest(final: str) -> dict[str, Any]:
        return rec("single_tool", rest, user("Any good Italian restaurants in Porto?"),
                   calls(call("c1", "search_restaurants", {"city": "Porto", "cuisine": "Italian"})),
                   result("c1", "search_restaurants", {"restaurants": [
                       {"id": "r-88", "name": "Trattoria Bellavista", "rating": 4.6},
                       {"id": "r-12", "name": "Casa Nonna", "rating": 4.3}]}),
                   answer(final))
    add("answer_ungrounded", "invented-name",
        _rest("Try Trattoria Bellavista (rated 4.6) or Casa Nonna (4.3)."),
        _rest("Try Trattoria Bellavista (rated 4.6) or Osteria Fiorentina (4.3)."))

    def _two_cities(final: str) -> dict[str, Any]:
        return rec("multi_tool_parallel", [WEATHER, CLOCK], user("Compare the weather in Lisbon and Reykjavik."),
                   calls(call("c1", "get_weather", {"city": "Lisbon"}), call("c2", "get_weather", {"city": "Reykjavik"})),
                   result("c1", "get_weather", {"temp_c": 19, "condition": "sunny"}),
                   result("c2", "get_weather", {"temp_c": -3, "condition": "snow"}), answer(final))
    add("answer_ungrounded", "swapped-figures",
        _two_cities("Lisbon is sunny at 19 °C, while Reykjavik has snow at -3 °C."),
        _two_cities("Lisbon is sunny at -3 °C, while Reykjavik has snow at 19 °C."))

    # 2. an argument value grounded nowhere -------------------------------------------------------------------
    def _email(to: str) -> dict[str, Any]:
        return rec("single_tool", [EMAIL, CONTACTS],
                   user("Email maria.lopez@acme.io that the meeting moves to Thursday."),
                   calls(call("c1", "send_email", {"to": to, "subject": "Meeting moved",
                                                   "body": "Hi Maria, the meeting moves to Thursday."})),
                   result("c1", "send_email", {"status": "sent"}), answer("Done: Maria has been told the meeting moves to Thursday."))
    add("arg_ungrounded", "invented-email", _email("maria.lopez@acme.io"), _email("maria.lopez@gmail.com"))

    def _fx(amount: float) -> dict[str, Any]:
        return rec("single_tool", [FX, STOCK], user("Convert 250 euros to Japanese yen."),
                   calls(call("c1", "convert_currency", {"amount": amount, "from_currency": "EUR", "to_currency": "JPY"})),
                   result("c1", "convert_currency", {"converted": 40812.5, "rate": 163.25}),
                   answer("250 euros is about 40812.5 yen at a rate of 163.25."))
    add("arg_ungrounded", "invented-amount", _fx(250), _fx(2500))

    def _order(oid: str) -> dict[str, Any]:
        return rec("single_tool", [ORDERS, EMAIL], user("Where is my order A-77312?"),
                   calls(call("c1", "get_order_status", {"order_id": oid})),
                   result("c1", "get_order_status", {"status": "in transit", "eta": "2026-02-03"}),
                   answer("Your order is in transit and should arrive on 2026-02-03."))
    add("arg_ungrounded", "invented-id", _order("A-77312"), _order("A-77321"))

    def _route(dest: str) -> dict[str, Any]:
        return rec("single_tool", [DISTANCE, WEATHER], user("How far is it to drive from Munich to Salzburg?"),
                   calls(call("c1", "get_distance", {"origin": "Munich", "destination": dest})),
                   result("c1", "get_distance", {"distance_km": 145}),
                   answer("It is a 145 km drive."))
    add("arg_ungrounded", "invented-place", _route("Salzburg"), _route("Innsbruck"))

    # 3. a later call does not use the earlier result it depends on --------------------------------------------
    add("unchained_call", "book-unfound-flight",
        _flights("TP-532", "Booked TP-532 for Ana Costa (EUR 129); booking reference QX7P2L."),
        _flights("TP-900", "Booked TP-900 for Ana Costa; booking reference QX7P2L."))

    def _contact(to: str, scenario: str = "multi_tool_sequential") -> dict[str, Any]:
        return rec(scenario, [CONTACTS, EMAIL],
                   user("Look up Jonas Berg in my contacts and email him that the report is ready."),
                   calls(call("c1", "search_contacts", {"name": "Jonas Berg"})),
                   result("c1", "search_contacts", {"name": "Jonas Berg", "email": "j.berg@northwind.se", "phone": "+46 8 555 0142"}),
                   calls(call("c2", "send_email", {"to": to, "subject": "Report ready", "body": "Hi Jonas, the report is ready."})),
                   result("c2", "send_email", {"status": "sent"}),
                   answer("I emailed Jonas Berg that the report is ready."))
    add("unchained_call", "email-not-from-lookup", _contact("j.berg@northwind.se"), _contact("jonas@example.com"))

    def _table(rid: str) -> dict[str, Any]:
        return rec("complex_multi_step", [RESTAURANTS, TABLE, EMAIL],
                   user("Find a sushi place in Kyoto, book a table for 4 at 19:30, and email the details to kenji@mail.jp."),
                   calls(call("c1", "search_restaurants", {"city": "Kyoto", "cuisine": "sushi"})),
                   result("c1", "search_restaurants", {"restaurants": [{"id": "kyo-314", "name": "Sushi Gion", "rating": 4.8}]}),
                   calls(call("c2", "book_table", {"restaurant_id": rid, "time": "19:30", "party_size": 4})),
                   result("c2", "book_table", {"status": "confirmed", "table": 12}),
                   calls(call("c3", "send_email", {"to": "kenji@mail.jp", "subject": "Dinner at Sushi Gion",
                                                   "body": "Table for 4 at Sushi Gion, Kyoto, 19:30, table 12."})),
                   result("c3", "send_email", {"status": "sent"}),
                   answer("Booked table 12 at Sushi Gion for 4 at 19:30 and emailed kenji@mail.jp."))
    add("unchained_call", "complex-step-skips-result", _table("kyo-314"), _table("kyoto-sushi"))

    # 4. a tool choice that does not fit the request while a better one is offered -----------------------------
    def _translate(name: str, args: dict[str, Any], res: Any, final: str) -> dict[str, Any]:
        return rec("single_tool", [TRANSLATE, WEATHER, FX], user("Translate 'good morning' into Spanish."),
                   calls(call("c1", name, args)), result("c1", name, res), answer(final))
    add("tool_mismatch", "weather-for-translation",
        _translate("translate", {"text": "good morning", "target_language": "es"}, {"translation": "buenos días"},
                   "'Good morning' in Spanish is 'buenos días'."),
        _translate("get_weather", {"city": "Spanish"}, {"error": "city_not_found"},
                   "'Good morning' in Spanish is 'buenos días'."))

    def _news(name: str, args: dict[str, Any]) -> dict[str, Any]:
        return rec("single_tool", [NEWS, STOCK, CALC], user("What are today's news headlines about electric cars?"),
                   calls(call("c1", name, args)),
                   result("c1", name, {"headlines": ["Battery prices fall again", "New charging law passes"]}),
                   answer("Headlines: 'Battery prices fall again' and 'New charging law passes'."))
    add("tool_mismatch", "stock-for-news", _news("get_news", {"topic": "electric cars"}),
        _news("calculate", {"expression": "electric cars"}))

    def _clock(name: str, args: dict[str, Any]) -> dict[str, Any]:
        return rec("single_tool", [CLOCK, WEATHER, READ], user("What time is it now in Tokyo? Give me the current date too."),
                   calls(call("c1", name, args)),
                   result("c1", name, {"datetime": "2026-05-02T21:14:00+09:00"}),
                   answer("In Tokyo it is 21:14 on 2026-05-02."))
    add("tool_mismatch", "file-for-time", _clock("get_current_datetime", {"timezone": "Asia/Tokyo"}),
        _clock("read_file", {"path": "Tokyo"}))

    # 5. a result the answer ignores -------------------------------------------------------------------------
    add("result_ignored", "parallel-result-dropped",
        _two_cities("Lisbon is sunny at 19 °C; Reykjavik has snow at -3 °C."),
        _two_cities("Lisbon is sunny at 19 °C, a lovely day there."))
    add("result_ignored", "answer-without-data",
        _weather_oslo("In Oslo it is 4 °C with light rain."),
        _weather_oslo("I have looked at the weather in Oslo for you; let me know if you need anything else."))

    def _file(final: str) -> dict[str, Any]:
        return rec("single_tool", [READ, EMAIL], user("What does notes/todo.txt say?"),
                   calls(call("c1", "read_file", {"path": "notes/todo.txt"})),
                   result("c1", "read_file", {"content": "renew passport; call plumber about the boiler"}),
                   answer(final))
    add("result_ignored", "file-content-dropped",
        _file("It says: renew your passport and call the plumber about the boiler."),
        _file("The file notes/todo.txt exists and was read without problems."))

    # 6. duplicate calls in one parallel turn ----------------------------------------------------------------
    def _par(second: dict[str, Any], r2: Any, final: str) -> dict[str, Any]:
        return rec("multi_tool_parallel", [STOCK, FX], user("What are Apple (AAPL) and Microsoft (MSFT) trading at?"),
                   calls(call("c1", "get_stock_price", {"symbol": "AAPL"}), call("c2", "get_stock_price", second)),
                   result("c1", "get_stock_price", {"price_usd": 227.48}), result("c2", "get_stock_price", r2),
                   answer(final))
    add("duplicate_parallel_call", "same-symbol-twice",
        _par({"symbol": "MSFT"}, {"price_usd": 415.2}, "AAPL is at $227.48 and MSFT at $415.20."),
        _par({"symbol": "AAPL"}, {"price_usd": 227.48}, "AAPL is at $227.48."))

    def _par_w(second: dict[str, Any], r2: Any, final: str) -> dict[str, Any]:
        return rec("multi_tool_parallel", [WEATHER, CLOCK], user("Weather in Madrid and in Seville, please."),
                   calls(call("c1", "get_weather", {"city": "Madrid"}), call("c2", "get_weather", second)),
                   result("c1", "get_weather", {"temp_c": 14}), result("c2", "get_weather", r2), answer(final))
    add("duplicate_parallel_call", "same-city-twice",
        _par_w({"city": "Seville"}, {"temp_c": 21}, "Madrid: 14 °C; Seville: 21 °C."),
        _par_w({"city": "Madrid"}, {"temp_c": 14}, "Madrid: 14 °C."))

    # 7. units or options the user asked for and the call ignored ---------------------------------------------
    def _units(args: dict[str, Any], res: Any, final: str) -> dict[str, Any]:
        return rec("single_tool", [WEATHER, CLOCK], user("What's the temperature in Denver in Fahrenheit?"),
                   calls(call("c1", "get_weather", args)), result("c1", "get_weather", res), answer(final))
    add("option_ignored", "fahrenheit-dropped",
        _units({"city": "Denver", "units": "imperial"}, {"temp": 41, "unit": "F"}, "It is 41 °F in Denver."),
        _units({"city": "Denver"}, {"temp": 5, "unit": "C"}, "It is 5 °C in Denver."))

    def _dist(args: dict[str, Any], res: Any, final: str) -> dict[str, Any]:
        return rec("single_tool", [DISTANCE, WEATHER], user("How many miles is the drive from Boston to New York?"),
                   calls(call("c1", "get_distance", args)), result("c1", "get_distance", res), answer(final))
    add("option_ignored", "miles-dropped",
        _dist({"origin": "Boston", "destination": "New York", "unit": "miles"}, {"distance": 215}, "It is 215 miles."),
        _dist({"origin": "Boston", "destination": "New York", "unit": "km"}, {"distance": 346}, "It is 346 km."))

    def _lang(args: dict[str, Any]) -> dict[str, Any]:
        return rec("single_tool", [NEWS, TRANSLATE], user("Give me the latest football headlines in German."),
                   calls(call("c1", "get_news", args)),
                   result("c1", "get_news", {"headlines": ["Bayern gewinnt knapp"]}),
                   answer("Die Schlagzeile: 'Bayern gewinnt knapp'."))
    add("option_ignored", "language-dropped", _lang({"topic": "football", "language": "german"}), _lang({"topic": "football"}))

    # 8. no_tool_needed records that ask for live data, or claim a lookup that never happened -------------------
    def _nt(question: str, final: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return rec("no_tool_needed", tools, user(question), answer(final))
    add("no_tool_live_or_claimed", "live-weather",
        _nt("What is the boiling point of water at sea level?", "Water boils at 100 °C at sea level.", [WEATHER, CALC]),
        _nt("What's the weather in Oslo right now?", "It's usually cool and rainy in Oslo.", [WEATHER, CALC]))
    add("no_tool_live_or_claimed", "live-stock",
        _nt("What does a stock's ticker symbol identify?", "It identifies a listed company's shares on an exchange.",
            [STOCK, NEWS]),
        _nt("What is the current price of the NVDA stock?", "NVDA is a volatile stock; prices change every second.",
            [STOCK, NEWS]))
    add("no_tool_live_or_claimed", "claimed-search",
        _nt("Who wrote 'Pride and Prejudice'?", "Jane Austen wrote 'Pride and Prejudice' (1813).", [NEWS, CALC]),
        _nt("Who wrote 'Pride and Prejudice'?", "I searched the catalogue: Jane Austen wrote 'Pride and Prejudice' (1813).",
            [NEWS, CALC]))
    add("no_tool_live_or_claimed", "claimed-check",
        _nt("How many days are in a leap year?", "A leap year has 366 days.", [CLOCK, CALC]),
        _nt("How many days are in a leap year?", "I checked the calendar tool: a leap year has 366 days.", [CLOCK, CALC]))

    # 9. error_recovery retries that repeat the failed call unchanged -----------------------------------------
    def _retry(second: dict[str, Any]) -> dict[str, Any]:
        return rec("error_recovery", [WEATHER], user("Weather in San Fransisco please"),
                   calls(call("c1", "get_weather", {"city": "San Fransisco"})),
                   result("c1", "get_weather", {"error": "city_not_found", "message": "No city named 'San Fransisco'"}),
                   calls(call("c2", "get_weather", second)),
                   result("c2", "get_weather", {"temp_c": 16, "condition": "fog"}),
                   answer("San Francisco: 16 °C and foggy."))
    add("retry_unchanged", "same-typo-again", _retry({"city": "San Francisco"}), _retry({"city": "San Fransisco"}))

    def _retry_order(second: dict[str, Any]) -> dict[str, Any]:
        return rec("error_recovery", [ORDERS], user("Status of order B-1204?"),
                   calls(call("c1", "get_order_status", {"order_id": "b1204"})),
                   result("c1", "get_order_status", {"error": "invalid order id format, expected X-NNNN"}),
                   calls(call("c2", "get_order_status", second)),
                   result("c2", "get_order_status", {"status": "delivered"}),
                   answer("Order B-1204 was delivered."))
    add("retry_unchanged", "same-bad-id-again", _retry_order({"order_id": "B-1204"}), _retry_order({"order_id": "b1204"}))

    def _retry_fx(second: dict[str, Any]) -> dict[str, Any]:
        return rec("error_recovery", [FX], user("Convert 80 pounds sterling to US dollars."),
                   calls(call("c1", "convert_currency", {"amount": 80, "from_currency": "GBP", "to_currency": "US"})),
                   result("c1", "convert_currency", {"error": "unknown currency code 'US'"}),
                   calls(call("c2", "convert_currency", second)),
                   result("c2", "convert_currency", {"converted": 101.6}),
                   answer("80 GBP is 101.6 USD."))
    add("retry_unchanged", "same-bad-code-again",
        _retry_fx({"amount": 80, "from_currency": "GBP", "to_currency": "USD"}),
        _retry_fx({"amount": 80, "from_currency": "GBP", "to_currency": "US"}))

    # 11. the next step repeats the previous call, unchanged, and learns nothing (seen from Qwen2.5-Coder, one-shot)
    csv = {"path": "data/report.csv", "content": "date,name,age\n2021-05-01,John Doe,30\n2021-06-01,Jane Smith,25"}

    def _reread(second: dict[str, Any], second_result: dict[str, Any], final: str) -> dict[str, Any]:
        return rec("multi_tool_sequential", [READ, CALC], user("How old is the oldest person in data/report.csv?"),
                   calls(call("c1", "read_file", {"path": "data/report.csv"})), result("c1", "read_file", csv),
                   calls(call("c2", second["name"], second["arguments"])), result("c2", second["name"], second_result),
                   answer(final))
    add("repeated_call", "read-the-same-file-again",
        _reread({"name": "calculate", "arguments": {"expression": "max(30, 25)"}}, {"result": 30},
                "John Doe is the oldest, at 30."),
        _reread({"name": "read_file", "arguments": {"path": "data/report.csv"}}, csv, "John Doe is the oldest, at 30."))

    def _poll(second_status: str, final: str) -> dict[str, Any]:
        # an imported record (no scenario): polling is not a chained sequence
        return rec(None, [ORDERS, EMAIL], user("Has order B-1204 shipped yet? Check it twice to be sure."),
                   calls(call("c1", "get_order_status", {"order_id": "B-1204"})),
                   result("c1", "get_order_status", {"order_id": "B-1204", "status": "packed"}),
                   calls(call("c2", "get_order_status", {"order_id": "B-1204"})),
                   result("c2", "get_order_status", {"order_id": "B-1204", "status": second_status}),
                   answer(final))
    add("repeated_call", "status-polled-with-no-change",
        _poll("shipped", "Order B-1204 was packed at first and has shipped now."),
        _poll("packed", "Order B-1204 is still packed, not shipped yet."))

    # 12. a URL argument altered from the one the user gave, or a site nobody named (seen from Qwen2.5-Coder, stepwise)
    page = tool("get_webpage", "Fetch a web page and return its title and text.", {
        "url": {"type": "string", "format": "uri"}, "max_chars": {"type": "integer", "default": 2000}}, ["url"])

    def _fetch(request: str, url: str) -> dict[str, Any]:
        return rec("single_tool", [page, READ], user(request), calls(call("c1", "get_webpage", {"url": url})),
                   result("c1", "get_webpage", {"title": "Release notes", "text": "Version 4.2 adds offline mode."}),
                   answer("The release notes say version 4.2 adds offline mode."))
    add("arg_ungrounded", "altered-url",
        _fetch("What do the notes at https://example.com/docs/release-notes.html say?",
               "https://example.com/docs/release-notes.html"),
        _fetch("What do the notes at https://example.com/docs/release-notes.html say?",
               "https://example.com/docs/release/notes"))
    add("arg_ungrounded", "invented-site",
        _fetch("What do the latest Fooapp release notes say? They are on fooapp.dev.", "https://fooapp.dev/release-notes"),
        _fetch("What do the latest Fooapp release notes say?", "https://releases.acmecloud.io/notes"))

    # 13. an arithmetic expression with figures nobody gave (seen from Qwen2.5-Coder, one-shot)
    def _sum(request: str, expression: str, total: int) -> dict[str, Any]:
        return rec("single_tool", [CALC, READ], user(request),
                   calls(call("c1", "calculate", {"expression": expression})), result("c1", "calculate", {"result": total}),
                   answer(f"The total is {total}."))
    add("arg_ungrounded", "invented-figures-in-expression",
        _sum("What is the total of 18, 27 and 44?", "18 + 27 + 44", 89),
        _sum("Find the total of the numbers in my list.", "sum([10, 20, 30])", 60))
    return out


CAL = tool("create_calendar_event", "Create an event in the user's calendar.", {
    "title": S, "start": {"type": "string", "format": "date-time"}, "attendees": {"type": "array", "items": S}},
    ["title", "start"])
LS = tool("list_directory", "List the files in a workspace folder.", {"path": S}, ["path"])
SEARCH = tool("web_search", "Search the web and return results with title, URL and snippet.", {"query": S}, ["query"])
USERS = tool("find_user", "Find a customer account by name and return its user id.", {"name": S}, ["name"])
USER_ORDERS = tool("list_orders", "List the orders of a customer account by user id.", {"user_id": S}, ["user_id"])
GEO = tool("geocode", "Coordinates of a place.", {"place": S}, ["place"])
WX = tool("weather_at", "Current weather at coordinates.", {"lat": {"type": "number"}, "lon": {"type": "number"}},
          ["lat", "lon"])
DB = tool("database_query", "Run a read-only SQL query on the user's database.", {"query": S}, ["query"])


def holdout_pairs() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """Pairs written after the checks were tuned on :func:`pairs`, measured as they came (no tuning on them)."""
    out: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []

    def add(cls: str, name: str, clean: dict[str, Any], bad: dict[str, Any]) -> None:
        out.append((cls, name, clean, bad))

    def _cal(final: str, attendees: list[str] | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"title": "Dentist", "start": "2026-04-02T15:00:00+02:00"}
        if attendees is not None:
            args["attendees"] = attendees
        return rec("single_tool", [CAL, EMAIL], user("Put 'Dentist' in my calendar on 2026-04-02 at 15:00."),
                   calls(call("c1", "create_calendar_event", args)),
                   result("c1", "create_calendar_event", {"event_id": "ev-311", "start": "2026-04-02T15:00:00+02:00"}),
                   answer(final))
    add("answer_ungrounded", "h-wrong-time", _cal("Added 'Dentist' on 2026-04-02 at 3 pm."),
        _cal("Added 'Dentist' on 2026-04-02 at 4 pm."))

    def _ls(final: str) -> dict[str, Any]:
        return rec("single_tool", [LS, READ], user("What files are in the reports folder?"),
                   calls(call("c1", "list_directory", {"path": "reports"})),
                   result("c1", "list_directory", {"entries": ["q1.csv", "q2.csv", "summary.md"]}), answer(final))
    add("answer_ungrounded", "h-invented-file", _ls("The folder holds q1.csv, q2.csv and summary.md."),
        _ls("The folder holds q1.csv, q2.csv and annual_report.pdf."))
    add("arg_ungrounded", "h-invented-attendee", _cal("Added 'Dentist' on 2026-04-02 at 15:00.", []),
        _cal("Added 'Dentist' on 2026-04-02 at 15:00 and invited the clinic.", ["dr.smith@clinic.com"]))

    def _search(q: str) -> dict[str, Any]:
        return rec("single_tool", [SEARCH, CALC], user("Search the web for the DuckDB 1.2 release notes."),
                   calls(call("c1", "web_search", {"query": q})),
                   result("c1", "web_search", {"results": [{"title": "Announcing DuckDB 1.2", "url": "https://duckdb.org/2025/02/05/announcing-duckdb-120"}]}),
                   answer("The top result is 'Announcing DuckDB 1.2' at https://duckdb.org/2025/02/05/announcing-duckdb-120."))
    add("arg_ungrounded", "h-wrong-query", _search("DuckDB 1.2 release notes"), _search("PostgreSQL 16 features"))

    def _orders(uid: str) -> dict[str, Any]:
        return rec("multi_tool_sequential", [USERS, USER_ORDERS], user("Show me the orders of the customer Alice Moreau."),
                   calls(call("c1", "find_user", {"name": "Alice Moreau"})),
                   result("c1", "find_user", {"user_id": "u-4471", "name": "Alice Moreau"}),
                   calls(call("c2", "list_orders", {"user_id": uid})),
                   result("c2", "list_orders", {"orders": [{"order_id": "o-9", "total_eur": 58.2}]}),
                   answer("Alice Moreau has one order, o-9, for 58.2 EUR."))
    add("unchained_call", "h-wrong-user-id", _orders("u-4471"), _orders("u-1000"))

    def _geo(lat: float, lon: float) -> dict[str, Any]:
        return rec("complex_multi_step", [GEO, WX, EMAIL],
                   user("Find the coordinates of Tromsø, get the weather there and email it to ola@nord.no."),
                   calls(call("c1", "geocode", {"place": "Tromsø"})),
                   result("c1", "geocode", {"lat": 69.65, "lon": 18.96}),
                   calls(call("c2", "weather_at", {"lat": lat, "lon": lon})),
                   result("c2", "weather_at", {"temp_c": -6, "condition": "snow"}),
                   calls(call("c3", "send_email", {"to": "ola@nord.no", "subject": "Weather in Tromsø",
                                                   "body": "Tromsø: -6 °C and snow."})),
                   result("c3", "send_email", {"status": "sent"}),
                   answer("Tromsø has -6 °C and snow; I emailed ola@nord.no."))
    add("unchained_call", "h-made-up-coordinates", _geo(69.65, 18.96), _geo(60.39, 5.32))

    def _mail(name: str, args: dict[str, Any], res: Any, final: str) -> dict[str, Any]:
        return rec("single_tool", [EMAIL, SEARCH, CALC], user("Send an email to bob@fjord.org with the subject 'Hi' saying I'll be late."),
                   calls(call("c1", name, args)), result("c1", name, res), answer(final))
    add("tool_mismatch", "h-search-for-email",
        _mail("send_email", {"to": "bob@fjord.org", "subject": "Hi", "body": "I'll be late."}, {"status": "sent"},
              "Sent to bob@fjord.org."),
        _mail("calculate", {"expression": "1+1"}, {"result": 2}, "Sent to bob@fjord.org."))

    def _db(final: str) -> dict[str, Any]:
        return rec("single_tool", [DB, EMAIL], user("What were total sales in March?"),
                   calls(call("c1", "database_query", {"query": "SELECT sum(amount) AS total FROM sales WHERE month = 3"})),
                   result("c1", "database_query", {"rows": [{"total": 18250.75}]}), answer(final))
    add("result_ignored", "h-query-result-dropped", _db("March sales totalled 18250.75."),
        _db("The query on the sales table ran successfully."))

    def _tr(second: dict[str, Any], r2: Any, final: str) -> dict[str, Any]:
        return rec("multi_tool_parallel", [TRANSLATE, WEATHER], user("Translate 'thank you' into French and into German."),
                   calls(call("c1", "translate", {"text": "thank you", "target_language": "fr"}), call("c2", "translate", second)),
                   result("c1", "translate", {"translation": "merci"}), result("c2", "translate", r2), answer(final))
    add("duplicate_parallel_call", "h-same-language-twice",
        _tr({"text": "thank you", "target_language": "de"}, {"translation": "danke"}, "French: merci; German: danke."),
        _tr({"text": "thank you", "target_language": "fr"}, {"translation": "merci"}, "French: merci."))

    def _clock(args: dict[str, Any], res: Any, final: str) -> dict[str, Any]:
        return rec("single_tool", [CLOCK, CALC], user("Give me the current unix timestamp in UTC."),
                   calls(call("c1", "get_current_datetime", args)), result("c1", "get_current_datetime", res),
                   answer(final))
    add("option_ignored", "h-unix-format-dropped",
        _clock({"timezone": "UTC", "format": "unix"}, {"datetime": 1775000000}, "It is 1775000000."),
        _clock({"timezone": "UTC"}, {"datetime": "2026-03-31T23:33:20Z"}, "It is 2026-03-31T23:33:20Z."))
    add("no_tool_live_or_claimed", "h-live-rate",
        rec("no_tool_needed", [FX, CALC], user("What does the currency code EUR stand for?"),
            answer("EUR is the code of the euro, the currency of the euro area.")),
        rec("no_tool_needed", [FX, CALC], user("What's the euro to dollar exchange rate right now? Convert 100 EUR."),
            answer("100 euros is roughly 108 dollars at the moment.")))

    def _retry_file(second: dict[str, Any], final: str) -> dict[str, Any]:
        return rec("error_recovery", [READ, LS], user("Open my notes file notes/todo.md."),
                   calls(call("c1", "read_file", {"path": "notes/todo.txt"})),
                   result("c1", "read_file", {"error": "file_not_found", "message": "notes/todo.txt does not exist"}),
                   calls(call("c2", "read_file", second)),
                   result("c2", "read_file", {"content": "buy milk"}), answer(final))
    add("retry_unchanged", "h-same-missing-file", _retry_file({"path": "notes/todo.md"}, "It says: buy milk."),
        _retry_file({"path": "notes/todo.txt"}, "It says: buy milk."))
    return out


def records() -> list[dict[str, Any]]:
    """The corpus as records: clean twin then faulty twin, for every pair."""
    out = []
    for cls, name, clean, bad in pairs() + holdout_pairs():
        for faulty, r in ((False, clean), (True, bad)):
            r = copy.deepcopy(r)
            r["meta"] = {"corpus": {"class": cls, "pair": name, "faulty": faulty}}
            out.append(r)
    return out


def dump() -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records())


def measure(lines: list[dict[str, Any]] | None = None, *, verbose: bool = False) -> dict[str, Any]:
    """Hit rate on the faulty twins and false-flag rate on the clean twins (any error or warning counts)."""
    from toolforge.validate import RecordValidator

    v = RecordValidator()
    rows = lines if lines is not None else [json.loads(x) for x in JSONL.read_text("utf-8").splitlines()]
    faulty = clean = hits = false_flags = intended = 0
    misses: list[str] = []
    for r in rows:
        c = r["meta"]["corpus"]
        issues = v.validate(r)
        flagged = bool(issues)
        if c["faulty"]:
            faulty += 1
            hits += flagged
            code = {"no_tool_live_or_claimed": ("live_data_no_call", "claimed_lookup")}.get(c["class"], (c["class"],))
            intended += any(i.code in code for i in issues)
            if not flagged:
                misses.append(f"missed {c['class']}/{c['pair']}")
        else:
            clean += 1
            false_flags += flagged
            if flagged:
                misses.append(f"false flag {c['class']}/{c['pair']}: {[(i.code, i.message) for i in issues]}")
    out = {"faulty": faulty, "flagged": hits, "hit_rate": round(hits / faulty, 4),
           "flagged_by_intended_code": intended, "clean": clean, "clean_flagged": false_flags,
           "false_flag_rate": round(false_flags / clean, 4)}
    if verbose:
        out["notes"] = misses
    return out


def measure_clean(db: str) -> dict[str, Any]:
    """How many records of a store (clean data, e.g. BFCL imported with ``toolforge import -f bfcl``) get a
    grounding issue, by code."""
    from collections import Counter

    from toolforge.store import make_selection, open_store
    from toolforge.validate import RecordValidator
    from toolforge.validate.grounding import GROUNDING_CODES

    v = RecordValidator()
    n = flagged = 0
    codes: Counter[str] = Counter()
    with open_store(db, read_only=True) as store:
        for rec in store.iter_records(make_selection(include_duplicates=True)):
            n += 1
            found = {i.code for i in v.validate(rec.to_dict()) if i.code in GROUNDING_CODES}
            flagged += bool(found)
            codes.update(found)
    return {"records": n, "flagged": flagged, "rate": round(flagged / n, 4) if n else None, "codes": dict(codes)}


if __name__ == "__main__":
    import sys

    if "--measure" in sys.argv:
        print(json.dumps(measure(verbose=True), indent=1))
    elif "--clean" in sys.argv:
        print(json.dumps(measure_clean(sys.argv[sys.argv.index("--clean") + 1]), indent=1))
    elif "--holdout" in sys.argv:
        rows = []
        for cls, name, clean, bad in holdout_pairs():
            for faulty, r in ((False, clean), (True, bad)):
                r = copy.deepcopy(r)
                r["meta"] = {"corpus": {"class": cls, "pair": name, "faulty": faulty}}
                rows.append(r)
        print(json.dumps(measure(rows, verbose=True), indent=1))
    else:
        JSONL.write_text(dump(), encoding="utf-8")
        print(f"wrote {JSONL} ({len(records())} records)")
