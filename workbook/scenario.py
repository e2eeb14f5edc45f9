"""The Storefront's whole journey, end to end: each step a promise, checked against what the system did.

`python -m workbook e2e` (`make e2e`, `SERVICES=1` for PostgreSQL and Redis) starts
stage 11 as it is deployed: uvicorn's supervisor with three worker processes on one
port, the Celery worker and beat, the mail server and the payment provider
(workbook/stack.py). Then one customer walks through the shop, and every step checks
what really happened: the mail server's mailbox, the pixels of the thumbnails, the
cache's own counters, the provider's ledger, the answers of the other processes.

     1  register a new customer              POST /users/register answers 202, the same for a known address
     2  the welcome email arrives            over SMTP, with the code that confirms the address
     3  log in                               POST /token, then GET /users/me
     4  upload a profile image               a real PNG; its thumbnails decoded, each of the right size
     5  read a product twice                 the second read from this process's memory (GET /health/cache)
     6  order the last units at once         with other customers: never oversold, each refused one a 409
     7  pay, and retry the payment           one Idempotency-Key: one charge at the provider
     8  refresh the tokens                   rotation: the old refresh token is refused after
     9  log out                              the access token is refused after, by any process
    10  an admin changes a price             every process serves the new one

The first broken promise stops the run: its line says FAILED, what was expected and
what came back, and the command exits 1. `--url` runs the journey against a deployment
that is already running (`make serve LESSON=11`, say); a notebook calls `run_journey`.
Steps that need a new connection open one, so that the kernel may hand it to any of
the worker processes: what one process did, the others must honour.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2

from workbook.mail_server import messages, read_message
from workbook.stages import Stage

if TYPE_CHECKING:
    from workbook.stack import Stack

# The journey's tenants: the customer shops at acme; the price change happens at globex,
# whose demo admin and rate limit are its own, so that step has the budget to read often.
SHOP = {"X-Tenant-ID": "acme"}
PRICES = {"X-Tenant-ID": "globex"}
DEMO_ADMIN_PASSWORD = "storefront-demo-admin"
CARD = {"amount": 1250, "currency": "EUR", "card_token": "tok_visa_4242424242"}
BROWSED = "MUG-001"  # acme's catalogue (demo_products.py)
SCARCE = "TEE-002"
REPRICED = "LAMP-100"  # globex's
LAST_UNITS = 2
OTHER_CUSTOMERS = 3  # ordering the last units with the journey's customer
# The thumbnails the stage makes (its thumbnail_sizes setting), and the image they are made from.
THUMBNAIL_SIZES = (150, 300, 600)
IMAGE_SIZE = (640, 480)
# How long the journey waits for what happens after an answer: an email, thumbnails.
MAIL_SECONDS = 30.0
THUMBNAIL_SECONDS = 15.0
# A price change reaches the other processes through Redis pub/sub in milliseconds; this
# bound leaves a busy machine its margin, and is far below the local tier's 10 s TTL, so
# a process that never heard of the change cannot pass by expiring in time.
BROADCAST_BOUND_SECONDS = 3.0
# The kernel, not the journey, picks the process of each new connection, so the journey reads
# over new connections until each process has answered: at most this many per process, before
# the change and again after it (within the tenant's rate limit of 100 a minute).
READS_PER_PROCESS = 15
# A JWT: what the welcome email's confirmation code is.
CODE = re.compile(r"\b[\w-]+\.[\w-]+\.[\w-]+\b")


class Broken(Exception):
    """A promise the system did not keep: what was expected, and what came back."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"expected {expected}; got {got}")
        self.expected = expected
        self.got = got


@dataclass(frozen=True)
class Deployment:
    """Where the journey goes, and where it can look behind the API."""

    url: str
    mailbox: Path  # the mail server's folder: the welcome emails land there
    provider_url: str | None = None  # the payment provider, whose /v1/stats counts the charges
    provider_ca: Path | None = None
    # The processes that may hold the app's connections (see `answering_process`), and how
    # many serve requests, when the journey can tell.
    server_processes: Callable[[], list[int]] | None = None
    api_processes: int | None = None
    # What the deployment's supervisor said about its processes (one that died, say), where it can be read.
    supervisor_lines: Callable[[], list[str]] | None = None


@dataclass
class Outcome:
    number: int
    name: str
    ok: bool
    milliseconds: float
    note: str = ""  # what was seen, in a few words
    expected: str = ""
    got: str = ""

    def lines(self) -> list[str]:
        status = "ok" if self.ok else "FAILED"
        lines = [f"{self.number:>2}  {self.name:<36} {status:<6} {self.milliseconds:>6.0f} ms  {self.note}".rstrip()]
        if not self.ok:
            lines += [f"      expected: {self.expected}", f"      got:      {self.got}"]
        return lines


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(outcome.ok for outcome in self.outcomes) and len(self.outcomes) == len(STEPS)

    @property
    def failed(self) -> Outcome | None:
        return next((outcome for outcome in self.outcomes if not outcome.ok), None)

    def __str__(self) -> str:
        return "\n".join(line for outcome in self.outcomes for line in outcome.lines())


@dataclass
class Customer:
    email: str
    password: str
    name: str
    access: str = ""
    refresh: str = ""
    user_id: int = 0

    @classmethod
    def new(cls, name: str) -> Customer:
        # A fresh address every run: the journey never meets an account of an earlier one.
        return cls(f"journey-{uuid.uuid4().hex[:10]}@example.com", "a journey through the shop", name)

    def bearer(self, tenant: dict[str, str] = SHOP) -> dict[str, str]:
        return {**tenant, "Authorization": f"Bearer {self.access}"}


def expect(response: httpx2.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise Broken(f"{what}: {status}", f"{response.status_code} {response.text[:300]}")


class Journey:
    """One customer's walk through the shop; each step answers a note, or raises Broken."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.customer = Customer.new("Journey Customer")
        self.paths: set[str] = set()
        # One kept-alive connection for the steps that do not care which process answers.
        self.client = self.connect()

    def connect(self, connections: int = 10) -> httpx2.AsyncClient:
        """A client of its own: its first request opens a new connection, which any process may take.

        An idle connection is closed after 2 s, before uvicorn closes it (5 s, its
        --timeout-keep-alive): a request sent on a connection the server is closing fails.
        """
        limits = httpx2.Limits(max_connections=connections, keepalive_expiry=2.0)
        return httpx2.AsyncClient(base_url=self.deployment.url, timeout=30, limits=limits)

    async def once(self, method: str, path: str, **options: Any) -> httpx2.Response:
        """One request over a new connection."""
        async with self.connect() as client:
            return await client.request(method, path, **options)

    async def close(self) -> None:
        await self.client.aclose()

    # --- 1 to 3: an account ----------------------------------------------------------------------

    async def register(self) -> str:
        self.paths = set((await self.client.get("/openapi.json")).json()["paths"])
        first = await self.sign_up(self.customer)
        again = await self.sign_up(self.customer)  # an address with an account now
        if again.content != first.content:
            raise Broken("the same answer for a new and a known address", f"{first.text} then {again.text}")
        return "202, and the same 202 when the address is registered again"

    async def sign_up(self, customer: Customer) -> httpx2.Response:
        body = {"email": customer.email, "name": customer.name, "password": customer.password}
        response = await self.client.post("/users/register", json=body, headers=SHOP)
        expect(response, 202, "registration accepted")
        return response

    async def welcome_email(self) -> str:
        started = time.perf_counter()
        code = await self.confirmation_code(self.customer)
        arrived_ms = (time.perf_counter() - started) * 1000
        if "/users/confirm-email" not in self.paths:
            return f"arrived over SMTP {arrived_ms:.0f} ms after the 202"
        refused = await self.log_in_answer(self.customer)
        if refused.status_code != 400:
            raise Broken("log-in refused (400) until the address is confirmed", f"{refused.status_code}")
        await self.confirm(code)
        return f"arrived over SMTP {arrived_ms:.0f} ms after the 202; log-in refused until its code came back"

    async def confirmation_code(self, customer: Customer) -> str:
        code = await wait_for_code(self.deployment.mailbox, customer.email, MAIL_SECONDS)
        if code is None:
            raise Broken(f"a welcome email with its code to the new address within {MAIL_SECONDS:.0f} s", "none")
        return code

    async def confirm(self, code: str) -> None:
        response = await self.client.post("/users/confirm-email", json={"code": code}, headers=SHOP)
        expect(response, 204, "the code confirms the address")

    async def log_in_answer(self, customer: Customer, tenant: dict[str, str] = SHOP) -> httpx2.Response:
        form = {"username": customer.email, "password": customer.password}
        return await self.client.post("/token", data=form, headers=tenant)

    async def log_in(self, customer: Customer, tenant: dict[str, str] = SHOP) -> None:
        response = await self.log_in_answer(customer, tenant)
        expect(response, 200, "a token pair")
        customer.access, customer.refresh = response.json()["access_token"], response.json()["refresh_token"]

    async def log_in_step(self) -> str:
        await self.log_in(self.customer)
        me = await self.client.get("/users/me", headers=self.customer.bearer())
        expect(me, 200, "GET /users/me with the new access token")
        if me.json()["email"] != self.customer.email:
            raise Broken(f"/users/me to be {self.customer.email}", me.json()["email"])
        self.customer.user_id = me.json()["id"]
        return "a token pair; /users/me answers the new customer"

    # --- 4: a profile image ----------------------------------------------------------------------

    async def profile_image(self) -> str:
        path = f"/users/{self.customer.user_id}/profile-image"
        files = {"file": ("me.png", portrait_png(), "image/png")}
        uploaded = await self.client.post(path, files=files, headers=self.customer.bearer())
        expect(uploaded, 202, "the upload accepted")
        stored = uploaded.json()
        if (stored["format"], stored["width"], stored["height"]) != ("PNG", *IMAGE_SIZE):
            raise Broken(f"a PNG of {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}", str(stored))
        await self.wait_for_thumbnails(path)
        for size in THUMBNAIL_SIZES:
            # Each over a new connection: another process must find the files one process wrote.
            thumbnail = await self.once("GET", f"{path}/{size}", headers=self.customer.bearer())
            expect(thumbnail, 200, f"the {size} px thumbnail")
            check_thumbnail(thumbnail.content, size)
        sizes = ", ".join(str(size) for size in THUMBNAIL_SIZES)
        return f"{IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} PNG; thumbnails of {sizes} px decoded, aspect kept"

    async def wait_for_thumbnails(self, path: str) -> None:
        deadline, pause, made = time.monotonic() + THUMBNAIL_SECONDS, 0.05, []
        while time.monotonic() < deadline:
            answer = await self.client.get(path, headers=self.customer.bearer())
            expect(answer, 200, "the profile image's description")
            made = answer.json()["thumbnails"]
            if sorted(made) == sorted(THUMBNAIL_SIZES):
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)  # few requests: they count against the rate limit
        raise Broken(f"thumbnails of {list(THUMBNAIL_SIZES)} px within {THUMBNAIL_SECONDS:.0f} s", f"{made}")

    # --- 5: a cached read ------------------------------------------------------------------------

    async def cached_read(self) -> str:
        # One connection, so one process: the cache counts read before and after are the ones
        # of the process that served both reads (each process keeps its own).
        async with self.connect(connections=1) as client:
            before = await local_tier(client)
            bodies = []
            for _ in range(2):
                read = await client.get(f"/products/{BROWSED}", headers=SHOP)
                expect(read, 200, f"GET /products/{BROWSED}")
                bodies.append(read.json())
            after = await local_tier(client)
        hits = after["hits"] - before["hits"]
        lookups = hits + after["misses"] - before["misses"]
        if bodies[0] != bodies[1]:
            raise Broken("the same product twice", f"{bodies}")
        if lookups != 2 or hits < 1:
            raise Broken("two lookups in this process's memory, the second a hit", f"{lookups} lookups, {hits} hits")
        return f"the second read a hit in this process's memory ({hits} hit, {lookups - hits} miss in /health/cache)"

    # --- 6: the last units -----------------------------------------------------------------------

    async def last_units(self) -> str:
        admin = await self.demo_admin(SHOP)
        product = (await self.client.get(f"/products/{SCARCE}", headers=SHOP)).json()
        changes = {"name": product["name"], "price": product["price"], "stock": LAST_UNITS}
        response = await self.client.put(f"/admin/products/{SCARCE}", json=changes, headers=admin.bearer())
        expect(response, 200, f"the admin sets {SCARCE}'s stock to {LAST_UNITS}")
        others = [Customer.new(f"Customer {n}") for n in range(1, OTHER_CUSTOMERS + 1)]
        await asyncio.gather(*(self.ready_customer(other) for other in others))
        charges = await self.charges()
        statuses = Counter(await asyncio.gather(*(self.order_one(c) for c in (self.customer, *others))))
        left = await self.stock_in_database(SCARCE)
        charged = None if charges is None else await self.charges()
        customers = OTHER_CUSTOMERS + 1
        sold, refused = min(LAST_UNITS, customers), max(customers - LAST_UNITS, 0)
        if statuses != Counter({201: sold, 409: refused}) or left != LAST_UNITS - sold:
            raise Broken(f"{sold} sold, {refused} refused with 409, stock 0", f"{dict(statuses)}, stock {left}")
        if charges is not None and charged is not None and charged - charges != sold:
            raise Broken(f"{sold} charges at the provider", f"{charged - charges}")
        counted = "" if charges is None else f", {sold} charges"
        return f"{customers} customers at once: {sold} sold, {refused} refused with 409, stock 0{counted}"

    async def ready_customer(self, customer: Customer) -> None:
        """Registered, confirmed (when the stage asks for it) and logged in."""
        await self.sign_up(customer)
        if "/users/confirm-email" in self.paths:
            await self.confirm(await self.confirmation_code(customer))
        await self.log_in(customer)

    async def order_one(self, customer: Customer) -> int:
        """One unit of the scarce product, over a connection of this customer's own; answers the final status.

        A 409 with Retry-After says the product was busy, not sold out: a client waits and tries again.
        """
        body = {"items": [{"sku": SCARCE, "quantity": 1}], "card_token": CARD["card_token"]}
        async with self.connect() as client:
            for _ in range(5):
                answer = await client.post("/orders", json=body, headers=customer.bearer())
                if answer.status_code != 409 or "retry-after" not in answer.headers:
                    return answer.status_code
                await asyncio.sleep(float(answer.headers["retry-after"]))
        return answer.status_code

    async def stock_in_database(self, sku: str) -> int:
        # The list is read from the database on every call, with no cache in the way.
        listed = await self.client.get("/products", headers=SHOP)
        expect(listed, 200, "the catalogue")
        return next(product["stock"] for product in listed.json() if product["sku"] == sku)

    async def demo_admin(self, tenant: dict[str, str]) -> Customer:
        admin = Customer(f"admin@{tenant['X-Tenant-ID']}.example", DEMO_ADMIN_PASSWORD, "Admin")
        await self.log_in(admin, tenant)
        return admin

    async def charges(self) -> int | None:
        """How many charges the payment provider has made, read from its ledger (None: no ledger to read)."""
        if self.deployment.provider_url is None:
            return None
        verify: Any = str(self.deployment.provider_ca) if self.deployment.provider_ca else True
        async with httpx2.AsyncClient(base_url=self.deployment.provider_url, verify=verify, timeout=10) as provider:
            stats = await provider.get("/v1/stats")
        return int(stats.json()["charges"])

    # --- 7: paying once --------------------------------------------------------------------------

    async def pay_twice(self) -> str:
        headers = {**self.customer.bearer(), "Idempotency-Key": uuid.uuid4().hex}
        before = await self.charges()
        first = await self.once("POST", "/payments", json=CARD, headers=headers)
        expect(first, 201, "the payment made")
        retry = await self.once("POST", "/payments", json=CARD, headers=headers)  # another connection
        expect(retry, 201, "the retry answered as the payment was")
        if retry.json()["id"] != first.json()["id"] or retry.headers.get("idempotent-replayed") != "true":
            raise Broken("the same charge, replayed", f"{first.json()['id']} then {retry.json()['id']}")
        if before is None:
            return "the retry answered with the same charge, replayed (no provider ledger to count)"
        made = (await self.charges() or 0) - before
        if made != 1:
            raise Broken("one charge at the provider for the payment and its retry", f"{made}")
        return "the retry replayed the same charge; the provider made 1 charge"

    # --- 8 and 9: tokens -------------------------------------------------------------------------

    async def refresh(self) -> str:
        old = self.customer.refresh
        rotated = await self.client.post("/token/refresh", json={"refresh_token": old}, headers=SHOP)
        expect(rotated, 200, "a new pair for the refresh token")
        newest = rotated.json()["refresh_token"]
        self.customer.access = rotated.json()["access_token"]
        expect(await self.once("GET", "/users/me", headers=self.customer.bearer()), 200, "the new access token works")
        replay = await self.once("POST", "/token/refresh", json={"refresh_token": old}, headers=SHOP)
        expect(replay, 401, "the old refresh token refused")
        # A replayed refresh token is a stolen one, or a copy: its whole family is logged out.
        after = await self.once("POST", "/token/refresh", json={"refresh_token": newest}, headers=SHOP)
        expect(after, 401, "the newest refresh token of the family refused after the replay")
        return "rotated; the old refresh token refused, and with it the family"

    async def log_out(self) -> str:
        await self.log_in(self.customer)  # the refresh step logged the family out
        expect(await self.client.get("/users/me", headers=self.customer.bearer()), 200, "the new access token works")
        expect(await self.client.post("/logout", headers=self.customer.bearer()), 204, "log-out")
        tries = 3
        for _ in range(tries):  # each over a new connection: whichever process gets it must refuse it
            expect(await self.once("GET", "/users/me", headers=self.customer.bearer()), 401, "the token refused")
        return f"the access token refused after, {tries} times over new connections"

    # --- 10: a price every process serves --------------------------------------------------------

    async def new_price(self) -> str:
        admin = await self.demo_admin(PRICES)
        seen_before = await self.read_price_until_every_process_answered()
        old = next(iter(seen_before.values())) if seen_before else (await self.price_once())[0]
        new = old + Decimal("1.11")
        product = (await self.client.get(f"/products/{REPRICED}", headers=PRICES)).json()
        changes = {"name": product["name"], "price": str(new), "stock": product["stock"]}
        changed = await self.client.put(f"/admin/products/{REPRICED}", json=changes, headers=admin.bearer(PRICES))
        expect(changed, 200, "the admin changes the price")
        changed_at = time.monotonic()
        if self.deployment.server_processes is None:
            return await self.new_price_after_window(new)
        fresh: set[int] = set()
        reads = 0
        while not fresh >= set(seen_before):
            price, process = await self.price_once()
            reads, late = reads + 1, time.monotonic() - changed_at
            if price == new and process is not None:
                fresh.add(process)
            elif price != new and late > BROADCAST_BOUND_SECONDS:
                raise Broken(
                    f"every process serving {new} within {BROADCAST_BOUND_SECONDS} s of the change",
                    f"a process still serving {old} after {late:.1f} s",
                )
            if reads >= READS_PER_PROCESS * len(seen_before) and fresh:
                # The kernel hands new connections to whichever worker it picks, and may pass one by for
                # many reads in a row: a process not seen again cannot be checked over a shared port.
                break
            if reads >= 2 * READS_PER_PROCESS * len(seen_before):
                raise Broken(f"a process serving {new} after the change", f"{reads} reads, none of them")
            await asyncio.sleep(0.1)  # the reads count against the tenant's rate limit
        spread = (time.monotonic() - changed_at) * 1000
        return (
            f"{len(seen_before)} processes had {old} cached; {len(fresh)} of them seen again,"
            f" each serving {new} within {spread:.0f} ms"
        )

    async def read_price_until_every_process_answered(self) -> dict[int, Decimal]:
        """Read over new connections until every serving process has answered (and so cached the product)."""
        if self.deployment.server_processes is None:
            return {}
        wanted = self.deployment.api_processes or 1
        seen: dict[int, Decimal] = {}
        for _ in range(READS_PER_PROCESS * wanted):
            price, process = await self.price_once()
            if process is not None:
                seen[process] = price
            if len(seen) >= wanted:
                break
            await asyncio.sleep(0.05)
        if not seen:
            raise Broken("a process answering new connections", "none could be told apart")
        return seen  # all `wanted` of them, or as many as the kernel handed a connection to

    async def price_once(self) -> tuple[Decimal, int | None]:
        """The price as one new connection is served it, and which process served it (None: cannot tell)."""
        async with self.connect() as client:
            read = await client.get(f"/products/{REPRICED}", headers=PRICES)
            expect(read, 200, f"GET /products/{REPRICED}")
            process = None
            if self.deployment.server_processes is not None:
                process = answering_process(read, self.deployment.server_processes())
        return Decimal(read.json()["price"]), process

    async def new_price_after_window(self, new: Decimal) -> str:
        """No way to tell the processes apart: wait out the broadcast, then read over many new connections."""
        await asyncio.sleep(BROADCAST_BOUND_SECONDS)
        reads = 12
        prices = [(await self.price_once())[0] for _ in range(reads)]
        if any(price != new for price in prices):
            raise Broken(f"{new} on every read after {BROADCAST_BOUND_SECONDS} s", f"{Counter(prices)}")
        return f"{new} on {reads} reads over new connections after {BROADCAST_BOUND_SECONDS} s"


STEPS: list[tuple[str, Callable[[Journey], Awaitable[str]]]] = [
    ("register a new customer", Journey.register),
    ("the welcome email arrives", Journey.welcome_email),
    ("log in", Journey.log_in_step),
    ("upload a profile image", Journey.profile_image),
    ("read a product twice, cached", Journey.cached_read),
    ("order the last units at once", Journey.last_units),
    ("pay, and retry the payment", Journey.pay_twice),
    ("refresh the tokens", Journey.refresh),
    ("log out", Journey.log_out),
    ("an admin changes a price", Journey.new_price),
]


async def run_journey(deployment: Deployment, echo: Callable[[str], None] | None = None) -> Report:
    """Walk the journey; stop at the first broken promise. Each step's lines go to `echo` as it ends."""
    report = Report()
    journey = Journey(deployment)
    try:
        for number, (name, step) in enumerate(STEPS, start=1):
            started = time.perf_counter()
            try:
                note, ok, expected, got = await step(journey), True, "", ""
            except Broken as broken:
                note, ok, expected, got = "", False, broken.expected, broken.got
            except httpx2.HTTPError as error:  # the deployment stopped answering: a broken promise too
                note, ok, expected = "", False, "an answer"
                got = f"{type(error).__name__} {error}".strip() + supervisor_said(deployment)
            outcome = Outcome(number, name, ok, (time.perf_counter() - started) * 1000, note, expected, got)
            report.outcomes.append(outcome)
            if echo is not None:
                for line in outcome.lines():
                    echo(line)
            if not ok:
                break
    finally:
        await journey.close()
    return report


# --- What the journey reads besides the API ------------------------------------------------------


def supervisor_said(deployment: Deployment) -> str:
    """The supervisor's words about processes that died, if it said any: why a connection broke."""
    if deployment.supervisor_lines is None:
        return ""
    said = [line for line in deployment.supervisor_lines() if "died" in line or "failed" in line]
    return f" (the supervisor: {'; '.join(said[-3:])})" if said else ""


async def wait_for_code(mailbox: Path, to: str, seconds: float) -> str | None:
    """The confirmation code of the first email to `to` that carries one (a notice of a second
    registration carries none), once it has arrived; None if none did within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in messages(mailbox):
            message = read_message(path)
            body = message.get_body(preferencelist=("plain",)) if message["To"] == to else None
            found = CODE.search(body.get_content()) if body is not None else None
            if found is not None:
                return found.group()
        await asyncio.sleep(0.05)
    return None


def portrait_png() -> bytes:
    """A real PNG, drawn with Pillow: a gradient with shapes on it, nothing a test pattern would hide."""
    from PIL import Image, ImageDraw

    width, height = IMAGE_SIZE
    image = Image.linear_gradient("L").resize(IMAGE_SIZE).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 6, 3 * width // 4, 5 * height // 6), fill=(214, 120, 64))
    draw.rectangle((0, height - 40, width, height), fill=(40, 60, 120))
    data = io.BytesIO()
    image.save(data, format="PNG")
    return data.getvalue()


def check_thumbnail(data: bytes, size: int) -> None:
    """The bytes decode as a PNG whose longest side is `size`, with the original's aspect ratio."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            shape = (image.format, image.width, image.height)
    except (UnidentifiedImageError, OSError) as error:
        raise Broken(f"a {size} px PNG", f"{len(data)} bytes Pillow cannot decode: {error}") from None
    width, height = IMAGE_SIZE
    expected_height = round(size * height / width)
    if shape[0] != "PNG" or shape[1] != size or abs(shape[2] - expected_height) > 1:
        raise Broken(f"a PNG of {size}x{expected_height}", f"{shape[0]} of {shape[1]}x{shape[2]}")


async def local_tier(client: httpx2.AsyncClient) -> dict[str, Any]:
    """The product cache's local tier, as the process behind `client`'s connection counts it."""
    health = await client.get("/health/cache")
    expect(health, 200, "GET /health/cache")
    return health.json()["products"]["local"]


def answering_process(response: httpx2.Response, candidates: list[int]) -> int | None:
    """Which process holds the server's end of the connection `response` came over.

    With uvicorn's supervisor, the worker processes share one listening socket and the
    kernel hands each new connection to one of them; the accepted socket then lives in
    that process alone. Its peer is this client's port, so the process is found by
    asking each candidate's sockets (psutil reads /proc) while the connection is open.
    """
    import psutil

    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    client_port = stream.get_extra_info("client_addr")[1]
    server_port = stream.get_extra_info("server_addr")[1]
    for pid in candidates:
        try:
            sockets = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue  # gone, or not ours to read
        for socket in sockets:
            if socket.raddr and socket.raddr.port == client_port and socket.laddr.port == server_port:
                return pid
    return None


def serving_processes(url: str) -> list[int]:
    """For a deployment the journey did not start: the processes that serve `url`'s port.

    Every process holding the listening socket: with uvicorn's supervisor, that is the
    supervisor and its workers, and only the workers serve; a lone uvicorn serves itself.
    """
    import psutil

    port = httpx2.URL(url).port
    listening = {}
    for process in psutil.process_iter():
        try:
            if any(s.status == psutil.CONN_LISTEN and s.laddr.port == port for s in process.net_connections("tcp")):
                listening[process.pid] = process.ppid()
        except psutil.Error:
            continue  # gone, or not ours to read
    workers = [pid for pid, parent in listening.items() if parent in listening]
    return workers or list(listening)


# --- A deployment of its own ---------------------------------------------------------------------

API_WORKERS = 3
# The deployment's settings besides the stage's defaults: bcrypt's cost at its floor, so that
# five customers log in in well under a second (a real deployment keeps 12: it changes no
# promise, only the time each log-in takes), and the pools sized for three processes.
JOURNEY_ENV = {"WORKBOOK_BCRYPT_ROUNDS": "4", "WORKBOOK_WORKERS": str(API_WORKERS)}


@contextmanager
def deployment(
    stage: Stage, *, services: bool = False, extra_env: dict[str, str] | None = None, api_workers: int = API_WORKERS
) -> Iterator[Deployment]:
    """`stage` deployed as in production, on this machine: uvicorn with `api_workers` worker processes,
    the Celery worker and beat, the mail server and the payment provider; stopped afterwards.

    On the embedded defaults (a SQLite file, the embedded broker), or with `services` on
    PostgreSQL and the test Redis (workbook/service_tier.py).
    """
    import tempfile

    from workbook.service_tier import emptied_test_redis, postgres_database
    from workbook.stack import running_stack

    with ExitStack() as started:
        mailbox = Path(started.enter_context(tempfile.TemporaryDirectory(prefix="workbook-journey-mail-")))
        where: dict[str, Any] = {}
        if services:
            where["redis_url"] = started.enter_context(emptied_test_redis())
            where["database_url"] = started.enter_context(postgres_database())
        env = {**JOURNEY_ENV, "WORKBOOK_WORKERS": str(api_workers), **(extra_env or {})}
        stack = started.enter_context(
            running_stack(stage, api_workers=api_workers, mailbox=mailbox, extra_env=env, **where)
        )
        yield deployment_of(stack, mailbox, api_workers)


def deployment_of(stack: Stack, mailbox: Path, api_workers: int) -> Deployment:
    """A stack already running, as the journey sees it: its URL, mailbox, provider and worker processes."""
    import psutil

    supervisor = stack.services["app"].process.pid

    def workers() -> list[int]:
        try:
            return [child.pid for child in psutil.Process(supervisor).children()]
        except psutil.Error:
            return []

    payments = stack.payments
    return Deployment(
        url=stack.app_url,
        mailbox=mailbox,
        provider_url=payments.url if payments else None,
        provider_ca=payments.ca_file if payments else None,
        server_processes=workers,
        api_processes=api_workers,
        supervisor_lines=lambda: [line for line in stack.lines("app") if not line.startswith("{")],
    )


def run(deployment: Deployment, echo: Callable[[str], None] | None = print) -> Report:
    """The journey from synchronous code (the command line, a test)."""
    return asyncio.run(run_journey(deployment, echo))
