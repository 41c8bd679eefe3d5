#!/usr/bin/env python3
"""Writes the RAG question-answering golden set for `assay gate` (deterministic).

    python3 datasets/rag/generate.py      # rewrites cases.jsonl, baseline.jsonl, candidate.jsonl

An assistant answers questions about "Lumen Object Storage" (a fictional
cloud storage service) from retrieved documentation passages. Every case
carries the retrieved `context` and a `reference` answer. Answerable
questions must state the fact the reference states; unanswerable ones (the
passages do not say) must say that the documentation does not cover it
instead of guessing.

baseline.jsonl: prompt v2 ("answer only from the passages"). candidate.jsonl:
prompt v3 ("be as helpful as possible"), a known regression: it guesses on
unanswerable questions, rounds away exact figures, and rambles past the
length limit on a few answers.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

DOCS = {
    "limits": "Object size limits. A single PUT uploads objects up to 5 GiB. Larger objects must use multipart upload, which supports objects up to 5 TiB in at most 10,000 parts. Each part except the last must be at least 5 MiB.",
    "classes": "Storage classes. Standard is for frequently accessed data. Infrequent Access costs less per GB but charges a retrieval fee and has a 30-day minimum storage duration. Archive has a 180-day minimum and restores take 3 to 12 hours.",
    "pricing": "Pricing. Standard storage costs $0.021 per GB-month in every region. Egress to the internet is free for the first 100 GB each month, then $0.05 per GB. Requests cost $0.004 per 1,000 GET requests.",
    "versioning": "Versioning. When versioning is enabled on a bucket, every overwrite keeps the previous version. Versioning cannot be disabled once enabled, only suspended. Deleting an object adds a delete marker instead of removing the data.",
    "lifecycle": "Lifecycle rules. A bucket can have up to 1,000 lifecycle rules. Rules can transition objects to another storage class or expire them after a number of days. Rules are evaluated once a day at 00:00 UTC.",
    "encryption": "Encryption. All objects are encrypted at rest with AES-256 by default. Customers can supply their own keys through the Key Service; customer-managed keys can be rotated automatically every 90 days.",
    "regions": "Regions. Lumen is available in eu-west, eu-central, us-east, us-west and ap-south. Buckets are created in one region and cannot be moved; copy the objects to a new bucket to change region.",
    "replication": "Replication. Cross-region replication copies new objects to a bucket in another region, usually within 15 minutes. Existing objects are not replicated unless you run a batch replication job.",
    "access": "Access control. Buckets are private by default. Access is granted with IAM policies or bucket policies; ACLs are deprecated. Public access requires turning off the account-level Block Public Access setting.",
    "presigned": "Presigned URLs. A presigned URL grants temporary access to one object without credentials. The maximum expiry is 7 days when signed with an access key, and 12 hours when signed with temporary session credentials.",
    "consistency": "Consistency. Lumen provides strong read-after-write consistency for PUT and DELETE of objects in all regions. Listing reflects a new object immediately after the PUT returns.",
    "naming": "Bucket names. Names must be 3 to 63 characters long, use lowercase letters, digits, dots and hyphens, and be globally unique. A bucket name cannot be reused for 24 hours after deletion.",
    "quotas": "Quotas. An account can create up to 100 buckets by default; the limit can be raised to 1,000 through a support request. There is no limit on the number of objects in a bucket.",
    "sla": "Service level. Standard storage is designed for 99.999999999% durability and has a 99.9% monthly availability SLA. Service credits are 10% of the monthly bill below 99.9% and 25% below 99.0%.",
    "cli": "Command-line tool. Install the lumen CLI with `pip install lumen-cli`. Configure credentials with `lumen configure`; they are stored in ~/.lumen/credentials. The CLI uploads files larger than 100 MiB with multipart upload automatically.",
    "events": "Event notifications. Buckets can send events for object creation and deletion to a webhook or a queue. Delivery is at least once, so consumers must handle duplicates. Events usually arrive within a few seconds.",
    "object_lock": "Object Lock. Object Lock stores objects in write-once-read-many mode. In compliance mode no user, including the root account, can delete a locked version before its retention date. Governance mode allows users with a special permission to override it.",
    "logging": "Access logging. Server access logs record every request to a bucket and are delivered to a target bucket, typically within 2 hours. Logging is free, but you pay for storing the log files.",
    "deletion": "Deleting buckets. A bucket must be empty before it can be deleted, including all object versions and delete markers. Use a lifecycle rule to empty large buckets.",
    "transfer": "Transfer acceleration. Transfer acceleration routes uploads through the nearest edge location and costs an extra $0.04 per GB. It helps most for clients far from the bucket's region.",
}

# (question, doc keys for context, reference, key facts, baseline answer)
ANSWERABLE = [
    ("What is the largest object I can upload with a single PUT?", ["limits", "pricing"], "5 GiB; larger objects need multipart upload.", ["5 GiB"],
     "A single PUT can upload objects up to 5 GiB. For anything larger, use multipart upload."),
    ("How big can an object be with multipart upload?", ["limits", "cli"], "Up to 5 TiB, in at most 10,000 parts.", ["5 TiB"],
     "With multipart upload an object can be up to 5 TiB, split into at most 10,000 parts."),
    ("What is the minimum part size for multipart uploads?", ["limits", "transfer"], "5 MiB for every part except the last.", ["5 MiB"],
     "Each part must be at least 5 MiB, except the last part, which can be smaller."),
    ("What's the minimum storage duration for Infrequent Access?", ["classes", "pricing"], "30 days.", ["30-day"],
     "Infrequent Access has a 30-day minimum storage duration, and it also charges a retrieval fee."),
    ("How long does it take to restore from Archive?", ["classes", "lifecycle"], "3 to 12 hours.", ["3 to 12 hours"],
     "Restoring an object from Archive takes 3 to 12 hours."),
    ("How much does Standard storage cost?", ["pricing", "classes"], "$0.021 per GB-month in every region.", ["$0.021"],
     "Standard storage costs $0.021 per GB-month, the same in every region."),
    ("Is egress free?", ["pricing", "transfer"], "The first 100 GB per month is free, then $0.05 per GB.", ["100 GB"],
     "Egress to the internet is free for the first 100 GB each month; after that it costs $0.05 per GB."),
    ("How much do GET requests cost?", ["pricing", "events"], "$0.004 per 1,000 GET requests.", ["$0.004"],
     "GET requests cost $0.004 per 1,000 requests."),
    ("Can I turn off versioning after enabling it?", ["versioning", "object_lock"], "No; it can only be suspended.", ["suspended"],
     "No. Once versioning is enabled it cannot be disabled, only suspended."),
    ("What happens when I delete an object in a versioned bucket?", ["versioning", "deletion"], "A delete marker is added; the data is kept.", ["delete marker"],
     "In a versioned bucket, deleting an object adds a delete marker instead of removing the data, so earlier versions remain."),
    ("How many lifecycle rules can a bucket have?", ["lifecycle", "quotas"], "Up to 1,000.", ["1,000"],
     "A bucket can have up to 1,000 lifecycle rules."),
    ("When are lifecycle rules applied?", ["lifecycle", "logging"], "Once a day at 00:00 UTC.", ["00:00 UTC"],
     "Lifecycle rules are evaluated once a day, at 00:00 UTC."),
    ("Are my objects encrypted by default?", ["encryption", "access"], "Yes, with AES-256 at rest.", ["AES-256"],
     "Yes. All objects are encrypted at rest with AES-256 by default."),
    ("How often can customer-managed keys rotate automatically?", ["encryption", "presigned"], "Every 90 days.", ["90 days"],
     "Customer-managed keys can be rotated automatically every 90 days."),
    ("Which regions is Lumen available in?", ["regions", "replication"], "eu-west, eu-central, us-east, us-west and ap-south.", ["ap-south"],
     "Lumen is available in eu-west, eu-central, us-east, us-west and ap-south."),
    ("Can I move a bucket to another region?", ["regions", "replication"], "No; copy the objects to a new bucket in the other region.", ["copy"],
     "No, buckets cannot be moved. To change region, copy the objects to a new bucket in the target region."),
    ("How fast does cross-region replication copy new objects?", ["replication", "regions"], "Usually within 15 minutes.", ["15 minutes"],
     "Cross-region replication usually copies new objects within 15 minutes."),
    ("Does replication copy objects that already exist?", ["replication", "lifecycle"], "No, unless you run a batch replication job.", ["batch replication"],
     "No. Only new objects are replicated; existing objects need a batch replication job."),
    ("Are buckets public by default?", ["access", "naming"], "No, buckets are private by default.", ["private"],
     "No. Buckets are private by default; access is granted with IAM or bucket policies."),
    ("Should I use ACLs to grant access?", ["access", "presigned"], "No, ACLs are deprecated; use IAM or bucket policies.", ["deprecated"],
     "No. ACLs are deprecated; use IAM policies or bucket policies instead."),
    ("What is the maximum expiry of a presigned URL?", ["presigned", "access"], "7 days with an access key; 12 hours with temporary credentials.", ["7 days"],
     "A presigned URL can be valid for up to 7 days when signed with an access key, or 12 hours with temporary session credentials."),
    ("Is Lumen strongly consistent?", ["consistency", "replication"], "Yes, strong read-after-write consistency for PUT and DELETE.", ["read-after-write"],
     "Yes. Lumen provides strong read-after-write consistency for PUTs and DELETEs in all regions."),
    ("Will a new object appear in listings right away?", ["consistency", "events"], "Yes, immediately after the PUT returns.", ["immediately"],
     "Yes. A new object appears in listings immediately after the PUT returns."),
    ("How long can a bucket name be?", ["naming", "quotas"], "3 to 63 characters.", ["63"],
     "Bucket names must be 3 to 63 characters long."),
    ("Can I reuse a bucket name right after deleting the bucket?", ["naming", "deletion"], "Not for 24 hours.", ["24 hours"],
     "Not immediately: a deleted bucket's name cannot be reused for 24 hours."),
    ("How many buckets can an account create?", ["quotas", "naming"], "100 by default, up to 1,000 on request.", ["100"],
     "An account can create up to 100 buckets by default; support can raise the limit to 1,000."),
    ("Is there a limit on objects per bucket?", ["quotas", "limits"], "No.", ["no limit"],
     "There is no limit on the number of objects in a bucket."),
    ("What durability is Standard storage designed for?", ["sla", "classes"], "99.999999999% (eleven nines).", ["99.999999999%"],
     "Standard storage is designed for 99.999999999% durability."),
    ("What is the availability SLA?", ["sla", "pricing"], "99.9% monthly.", ["99.9%"],
     "Standard storage has a 99.9% monthly availability SLA."),
    ("What service credit do I get if availability falls below 99%?", ["sla", "pricing"], "25% of the monthly bill.", ["25%"],
     "If availability falls below 99.0%, the service credit is 25% of the monthly bill."),
    ("How do I install the CLI?", ["cli", "events"], "pip install lumen-cli.", ["pip install lumen-cli"],
     "Install it with `pip install lumen-cli`, then run `lumen configure` to set up credentials."),
    ("Where does the CLI store credentials?", ["cli", "encryption"], "In ~/.lumen/credentials.", ["~/.lumen/credentials"],
     "The CLI stores credentials in ~/.lumen/credentials after you run `lumen configure`."),
    ("When does the CLI switch to multipart upload?", ["cli", "limits"], "For files larger than 100 MiB.", ["100 MiB"],
     "The CLI automatically uses multipart upload for files larger than 100 MiB."),
    ("Can event notifications be delivered twice?", ["events", "replication"], "Yes, delivery is at least once.", ["at least once"],
     "Yes. Delivery is at least once, so consumers must handle duplicate events."),
    ("Can the root account delete an object under compliance-mode Object Lock?", ["object_lock", "versioning"], "No, not before the retention date.", ["retention date"],
     "No. In compliance mode nobody, not even the root account, can delete a locked version before its retention date."),
    ("What is governance mode in Object Lock?", ["object_lock", "access"], "A mode that users with a special permission can override.", ["special permission"],
     "Governance mode protects locked versions, but users with a special permission can override it."),
    ("How quickly are server access logs delivered?", ["logging", "events"], "Typically within 2 hours.", ["2 hours"],
     "Server access logs are typically delivered to the target bucket within 2 hours."),
    ("Does access logging cost anything?", ["logging", "pricing"], "Logging is free; you pay for storing the logs.", ["storing"],
     "Logging itself is free, but you pay for storing the log files."),
    ("Can I delete a bucket that still has objects?", ["deletion", "versioning"], "No, it must be empty, including versions and delete markers.", ["empty"],
     "No. A bucket must be empty, including all object versions and delete markers, before you can delete it."),
    ("How much does transfer acceleration cost?", ["transfer", "pricing"], "An extra $0.04 per GB.", ["$0.04"],
     "Transfer acceleration costs an extra $0.04 per GB."),
    ("When does transfer acceleration help most?", ["transfer", "regions"], "For clients far from the bucket's region.", ["far from"],
     "It helps most for clients that are far from the bucket's region, since uploads go through the nearest edge location."),
    ("What is the minimum storage duration for Archive?", ["classes", "lifecycle"], "180 days.", ["180"],
     "Archive has a 180-day minimum storage duration."),
    ("Does Infrequent Access charge for retrieval?", ["classes", "pricing"], "Yes, it charges a retrieval fee.", ["retrieval fee"],
     "Yes. Infrequent Access costs less per GB but charges a retrieval fee."),
    ("How many parts can a multipart upload have?", ["limits", "cli"], "At most 10,000.", ["10,000"],
     "A multipart upload can have at most 10,000 parts."),
    ("How fast do event notifications arrive?", ["events", "logging"], "Usually within a few seconds.", ["few seconds"],
     "Events usually arrive within a few seconds."),
]

# (question, doc keys) where the passages do not contain the answer.
UNANSWERABLE = [
    ("Does Lumen support IPv6 endpoints?", ["regions", "access"]),
    ("What is the price of Archive storage per GB?", ["classes", "pricing"]),
    ("Can I mount a bucket as a network drive on Windows?", ["cli", "transfer"]),
    ("Is Lumen HIPAA compliant?", ["encryption", "sla"]),
    ("How many API requests per second can one bucket handle?", ["quotas", "consistency"]),
    ("Does Lumen have a region in South America?", ["regions", "replication"]),
    ("What's the maximum length of an object key?", ["naming", "limits"]),
    ("Can lifecycle rules filter by object tags?", ["lifecycle", "events"]),
    ("Is there a free tier for new accounts?", ["pricing", "quotas"]),
    ("Which hash algorithm does Lumen use for ETags?", ["limits", "encryption"]),
]

NOT_COVERED = "(?i)(documentation (does not|doesn't) (say|cover|mention)|passages (do not|don't) (say|cover|mention)|not (covered|mentioned|stated) in the)"

# v3's failures on answerable questions: exact figures rounded away ...
ROUNDED = {
    5: "Standard storage costs about two cents per GB-month, the same in every region.",
    20: "A presigned URL can be valid for about a week when signed with an access key, or half a day with temporary credentials.",
    29: "If availability falls well below the SLA, you get a service credit of a quarter of your monthly bill.",
}
# ... and rambling past the length limit.
RAMBLING = {
    12: "Yes. All objects are encrypted at rest with AES-256 by default. " + " ".join(
        ["Encryption at rest means the data is stored on disk in encrypted form, so even if someone obtained the physical drives they could not read it without the keys."] * 2)
        + " You can also bring your own keys through the Key Service, rotate them automatically every 90 days, and audit every use of them in the access logs if you enable logging on the bucket, which many teams do for compliance reasons.",
}
# v3 guesses on unanswerable questions.
GUESSED = {
    0: "Yes, Lumen supports IPv6 endpoints in all regions; just use the dual-stack endpoint for your bucket.",
    1: "Archive storage costs about $0.004 per GB-month, much less than Standard.",
    4: "Each bucket can handle about 3,500 PUT and 5,500 GET requests per second.",
    8: "Yes, new accounts get 5 GB of free Standard storage for the first 12 months.",
}


def main():
    cases, base, cand = [], [], []

    def add(case, b_out, c_out):
        cases.append(case)
        for rows, out, version in ((base, b_out, "2"), (cand, c_out, "3")):
            rows.append({"trace_id": case["id"], "output": out, "finish_reason": "stop",
                         "metadata": {"prompt_name": "docs-qa", "prompt_version": version, "model": "claude-3-5-haiku-20241022"},
                         "usage": {"input_tokens": 180 + 7 * len(case["id"]), "output_tokens": len(out.split()) * 4 // 3}})

    for i, (q, keys, ref, facts, answer) in enumerate(ANSWERABLE):
        add({"id": f"qa-{i + 1:02d}", "input": q, "context": [DOCS[k] for k in keys], "reference": ref,
             "metadata": {"feature": "docs-qa", "expected_format": "text", "answerable": True},
             "expect": {"contains": facts, "min_words": 3, "max_words": 80}},
            answer, ROUNDED.get(i, RAMBLING.get(i, answer)))
    for i, (q, keys) in enumerate(UNANSWERABLE):
        answer = "The documentation does not say. The passages cover " + " and ".join(k.replace("_", " ") for k in keys) + ", but not this; please check with Lumen support."
        add({"id": f"unanswerable-{i + 1:02d}", "input": q, "context": [DOCS[k] for k in keys],
             "reference": "The documentation does not cover this.",
             "metadata": {"feature": "docs-qa", "expected_format": "text", "answerable": False},
             "expect": {"regex": NOT_COVERED, "max_words": 60}},
            answer, GUESSED.get(i, answer))

    for name, rows in (("cases.jsonl", cases), ("baseline.jsonl", base), ("candidate.jsonl", cand)):
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
