//! A CSV file's encoding, detected from the evidence of its first megabyte
//! ([`detect`]), and the streaming decoder that turns another encoding into
//! UTF-8 while marking every byte it cannot decode.

use crate::PipelineError;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// How a file's text was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Gb18030 => "GBK/GB18030",
            Encoding::Utf16Le => "UTF-16LE (BOM)",
            Encoding::Utf16Be => "UTF-16BE (BOM)",
        }
    }

    /// The decoder of an encoding other than UTF-8 (which is read as it is).
    pub(super) fn decoder(self) -> Option<encoding_rs::Decoder> {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => None,
            Encoding::Gb18030 => Some(encoding_rs::GB18030.new_decoder_without_bom_handling()),
            Encoding::Utf16Le => Some(encoding_rs::UTF_16LE.new_decoder_with_bom_removal()),
            Encoding::Utf16Be => Some(encoding_rs::UTF_16BE.new_decoder_with_bom_removal()),
        }
    }
}

/// Bytes looked at to tell a CSV file's encoding.
const DETECT_BYTES: usize = 1 << 20;

/// Detects the encoding of a CSV file from its first megabyte (see [`detect`]).
pub fn detect_encoding(path: &Path) -> Result<Encoding, PipelineError> {
    let mut head = Vec::with_capacity(DETECT_BYTES);
    File::open(path)?.take(DETECT_BYTES as u64).read_to_end(&mut head)?;
    detect(&head, head.len() < DETECT_BYTES).map_err(PipelineError::Unreadable)
}

/// Tells the encoding of a CSV file from `head`, its first bytes (`whole`:
/// the whole file). A byte-order mark decides. Otherwise the evidence is
/// weighed. A UTF-8 character of three or four bytes (every Chinese
/// character) is strong evidence: GBK text hardly ever forms one by chance,
/// while a two-byte one it forms for one character in six to ten. So text
/// with strong evidence at least half as heavy as its faults (bytes that
/// are not UTF-8: a stray byte, a cut character, a part in another
/// encoding) is UTF-8, and the reader then rejects the row with the fault:
/// GBK would decode such text into other characters without a complaint.
/// Valid UTF-8 is UTF-8, unless its only non-ASCII characters are two-byte
/// ones that GB18030 also decodes cleanly (a few GBK characters). Otherwise
/// text GB18030 decodes cleanly is GBK; else whichever has fewer faults,
/// and the reader rejects the first row with one.
pub fn detect(head: &[u8], whole: bool) -> Result<Encoding, String> {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Ok(Encoding::Utf8Bom);
    }
    if head.starts_with(b"\xFF\xFE") {
        return Ok(Encoding::Utf16Le);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Ok(Encoding::Utf16Be);
    }
    let nuls = head.iter().filter(|b| **b == 0).count();
    if nuls > 0 && nuls * 20 >= head.len() {
        return Err("文件中有大量 NUL 字节:像是没有 BOM 的 UTF-16 文本或二进制文件,不是 CSV;请在 Excel/WPS 中另存为「CSV UTF-8(逗号分隔)」或 XLSX 后重新报送".into());
    }
    let Utf8Evidence { two_byte, longer, faults } = utf8_evidence(head, whole);
    if faults == 0 && (longer > 0 || two_byte == 0) {
        return Ok(Encoding::Utf8);
    }
    if faults > 0 && 2 * longer >= faults {
        return Ok(Encoding::Utf8);
    }
    let gbk_faults = gb18030_faults(head, whole);
    Ok(if gbk_faults == 0 || gbk_faults < faults { Encoding::Gb18030 } else { Encoding::Utf8 })
}

/// What `bytes` say of UTF-8: its valid characters of two bytes and of
/// three or four, and the places where the bytes are not UTF-8 (a
/// character cut at the end of a head that is not the whole file is not a
/// fault).
struct Utf8Evidence {
    two_byte: usize,
    longer: usize,
    faults: usize,
}

fn utf8_evidence(bytes: &[u8], whole: bool) -> Utf8Evidence {
    let mut evidence = Utf8Evidence { two_byte: 0, longer: 0, faults: 0 };
    let count = |valid: &[u8], evidence: &mut Utf8Evidence| {
        for b in valid {
            match b {
                0xC0..=0xDF => evidence.two_byte += 1,
                0xE0.. => evidence.longer += 1,
                _ => {}
            }
        }
    };
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                count(valid.as_bytes(), &mut evidence);
                return evidence;
            }
            Err(e) => {
                count(&rest[..e.valid_up_to()], &mut evidence);
                match e.error_len() {
                    Some(bad) => {
                        evidence.faults += 1;
                        rest = &rest[e.valid_up_to() + bad..];
                    }
                    None => {
                        evidence.faults += usize::from(whole);
                        return evidence;
                    }
                }
            }
        }
    }
}

/// The places where GB18030 cannot decode `bytes`.
fn gb18030_faults(bytes: &[u8], whole: bool) -> usize {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = vec![0u8; 64 * 1024];
    let (mut faults, mut rest) = (0, bytes);
    loop {
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(rest, &mut out, whole);
        rest = &rest[read..];
        match result {
            encoding_rs::DecoderResult::InputEmpty => return faults,
            encoding_rs::DecoderResult::OutputFull => {}
            encoding_rs::DecoderResult::Malformed(..) => faults += 1,
        }
    }
}

/// Bytes of another encoding in, UTF-8 bytes out, streaming. A byte
/// sequence the encoding does not have comes out as the byte 0xFF, which
/// is not UTF-8: the reader's UTF-8 check then names its row and column.
pub(super) struct DecodingReader<R: Read> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    /// The undecoded bytes are `input[in_at..in_end]`.
    in_at: usize,
    in_end: usize,
    eof: bool,
    output: Vec<u8>,
    /// The decoded bytes not yet handed out are `output[out_at..out_end]`.
    out_at: usize,
    out_end: usize,
    /// The decoder has had the end of the input.
    done: bool,
}

impl<R: Read> DecodingReader<R> {
    const BYTES: usize = 64 * 1024;

    pub(super) fn new(inner: R, decoder: encoding_rs::Decoder) -> DecodingReader<R> {
        // Every input byte may become three output bytes (0x80 is € in GBK).
        let output = vec![0; 3 * Self::BYTES + 16];
        DecodingReader { inner, decoder, input: vec![0; Self::BYTES], in_at: 0, in_end: 0, eof: false, output, out_at: 0, out_end: 0, done: false }
    }

    /// Decodes more input into the empty output buffer.
    fn decode(&mut self) -> io::Result<()> {
        if self.in_at == self.in_end && !self.eof {
            self.in_end = self.inner.read(&mut self.input)?;
            self.in_at = 0;
            self.eof = self.in_end == 0;
        }
        // Leave a byte for a fault's marker.
        let room = self.output.len() - 1;
        let (result, read, mut written) = self.decoder.decode_to_utf8_without_replacement(&self.input[self.in_at..self.in_end], &mut self.output[..room], self.eof);
        self.in_at += read;
        match result {
            encoding_rs::DecoderResult::Malformed(..) => {
                self.output[written] = 0xFF;
                written += 1;
            }
            encoding_rs::DecoderResult::InputEmpty => self.done = self.eof,
            encoding_rs::DecoderResult::OutputFull => {}
        }
        (self.out_at, self.out_end) = (0, written);
        Ok(())
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_at == self.out_end {
            if self.done {
                return Ok(0);
            }
            self.decode()?;
        }
        let n = buf.len().min(self.out_end - self.out_at);
        buf[..n].copy_from_slice(&self.output[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::{DecodingReader, Encoding, detect};
    use std::io::Read;

    fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    #[test]
    fn the_encoding_is_told_by_the_weight_of_the_evidence() {
        let utf8 = "姓名,金额\n张三,12\n李四,13\n".repeat(20);
        assert_eq!(detect(utf8.as_bytes(), true), Ok(Encoding::Utf8));
        assert_eq!(detect(&gbk(&utf8), true), Ok(Encoding::Gb18030));
        // 伟 in GBK (CE B0) is valid UTF-8 (ΰ) by itself; 元 (D4 AA) too.
        assert_eq!(detect(&gbk("伟\n元a伟\n"), true), Ok(Encoding::Gb18030));
        assert_eq!(detect(&gbk("姓名,金额(元)\n元a伟\n伟\n"), true), Ok(Encoding::Gb18030));
        assert_eq!(detect("a,b\n1,2\n".as_bytes(), true), Ok(Encoding::Utf8), "ASCII");
        // One stray byte, or a last character cut short, in UTF-8 text:
        // still UTF-8 (the reader then rejects naming the row), never GBK.
        for stray in [&b"\xFF"[..], b"\xA0", b"\xE5\xBC"] {
            let mut bytes = utf8.as_bytes().to_vec();
            bytes.extend_from_slice(stray);
            assert_eq!(detect(&bytes, true), Ok(Encoding::Utf8), "{stray:?}");
        }
        // A run of bytes GBK does not have in GBK text: GBK, rejected by row.
        let mut bytes = gbk(&utf8);
        bytes.extend(std::iter::repeat_n(0xFF, 500));
        assert_eq!(detect(&bytes, true), Ok(Encoding::Gb18030));
        // A character cut by the end of the head of a larger file is no fault.
        let cut = &utf8.as_bytes()[..utf8.len() - 1];
        assert_eq!(detect(cut, false), Ok(Encoding::Utf8));
        assert_eq!(detect(b"\xFF\xFEa\x00", true), Ok(Encoding::Utf16Le));
        assert_eq!(detect(b"\xFE\xFF\x00a", true), Ok(Encoding::Utf16Be));
        assert!(detect(b"a\x00b\x00,\x00c\x00", true).unwrap_err().contains("UTF-16"));
    }

    #[test]
    fn decoding_gives_every_byte_and_marks_what_the_encoding_lacks() {
        let decode = |bytes: &[u8], step: usize| {
            let mut reader = DecodingReader::new(bytes, Encoding::Gb18030.decoder().unwrap());
            let mut out = Vec::new();
            let mut buf = vec![0; step];
            loop {
                let n = reader.read(&mut buf).unwrap();
                if n == 0 {
                    return out;
                }
                out.extend_from_slice(&buf[..n]);
            }
        };
        // 0x80 is € in GB18030: 45,000 of them are 135,000 bytes of UTF-8.
        let mut euros = gbk("备注,");
        euros.extend(std::iter::repeat_n(0x80, 45_000));
        euros.extend(gbk("\n张三,1\n"));
        let expected = format!("备注,{}\n张三,1\n", "€".repeat(45_000));
        for step in [1, 7, 4096, 1 << 20] {
            assert_eq!(String::from_utf8(decode(&euros, step)).unwrap(), expected, "{step} bytes a read");
        }
        // 0xFF is no GBK byte: marked, and the rest decoded.
        let out = decode(&[&gbk("张")[..], b"\xFF", &gbk("三")[..]].concat(), 3);
        assert_eq!(out, ["张".as_bytes(), b"\xFF", "三".as_bytes()].concat());
        // A character cut at the end of the file is marked too.
        let out = decode(&gbk("张三")[..3], 2);
        assert!(out.starts_with("张".as_bytes()) && out.ends_with(b"\xFF"));
    }
}
