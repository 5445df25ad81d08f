/*
 * Root System Description Pointer (RSD PTR): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[000h 0000   8]                    Signature : "RSD PTR "
[008h 0008   1]                     Checksum : 64
[009h 0009   6]                       Oem ID : "FWCOEM"
[00Fh 0015   1]                     Revision : 00
[010h 0016   4]                 RSDT Address : 7FFD0040
