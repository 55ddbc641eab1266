"""Portal forms for a dietitian's own samples. Validation rules come from content.validation
through the services; the form only turns a pasted text or an uploaded file into a body."""

from pathlib import PurePath

from django import forms

from content.models import SampleKind
from content.validation import BODY_MAX_CHARS, TITLE_MAX_CHARS

UPLOAD_SUFFIXES = {".txt", ".md"}
UPLOAD_MAX_BYTES = BODY_MAX_CHARS * 4  # 20,000 characters of UTF-8 at most


class SampleForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX_CHARS, required=False)
    kind = forms.ChoiceField(choices=SampleKind.choices, initial=SampleKind.OTHER)
    language = forms.CharField(max_length=10, initial="en")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14}),
        required=False,
        strip=False,
        help_text=f"Plain text, up to {BODY_MAX_CHARS:,} characters.",
    )
    upload = forms.FileField(
        required=False,
        label="Or upload a file",
        help_text="A .txt or .md file in UTF-8.",
    )

    def __init__(self, *args, require_text: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.require_text = require_text

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if not upload:
            return None
        if PurePath(upload.name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise forms.ValidationError("Upload a .txt or .md file.")
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {UPLOAD_MAX_BYTES:,} bytes.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None

    def clean(self):
        cleaned = super().clean()
        body, uploaded = cleaned.get("body") or "", cleaned.get("upload")
        if uploaded is not None and body.strip():
            raise forms.ValidationError("Paste the text or upload a file, not both.")
        if uploaded is not None:
            cleaned["body"] = uploaded
        elif self.require_text and not body.strip() and "upload" not in self.errors:
            self.add_error("body", "Paste your text or upload a file.")
        return cleaned

    def sample_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data.get("title", ""),
            "kind": data["kind"],
            "language": data["language"],
            "body": data["body"],
        }
